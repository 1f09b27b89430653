"""Debt collection (催收): receivables, exact money, fees, import/export, aging, grading.

Modules are named after their concept: :mod:`money` (minor units and rounding),
:mod:`fees` (pure contract arithmetic), :mod:`receivables` (commands and loading),
:mod:`importing` (CSV in and out), :mod:`aging` (the SQL aging report) and
:mod:`grading` (the five-tier grade from the deployed ``risk_grade`` DMN).
"""
