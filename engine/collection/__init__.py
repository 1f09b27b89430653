"""Debt collection (催收): receivables, exact money, fees, import/export, aging, grading,
and the collection ladder running on the engine.

Modules are named after their concept: :mod:`money` (minor units and rounding),
:mod:`fees` (pure contract arithmetic), :mod:`receivables` (commands and loading),
:mod:`importing` (CSV in and out), :mod:`aging` (the SQL aging report),
:mod:`grading` (the five-tier grade from the deployed ``risk_grade`` DMN),
:mod:`ladder` (the configurable levels and the instants a case starts with),
:mod:`cases` (starting one ladder case per receivable), :mod:`case_events` (payments
and broken promises told to the case), :mod:`promises` (promises to pay),
:mod:`notices` (debtor notice templates), :mod:`contact` (contact rules where debtor
notices are enqueued), :mod:`letters` (PDF letters) and :mod:`daily` (the daily job).
"""
