"""Parse uploaded XML before SpiffWorkflow sees it: no DTD, no entities, no network.

SpiffWorkflow's parser uses lxml defaults, which expand internal entities. An upload
is therefore read here first, with a size cap, and any document type declaration is
refused outright: a BPMN or DMN file never needs one.
"""

from __future__ import annotations

from lxml import etree

from .errors import DeploymentError

MAX_BYTES = 5 * 1024 * 1024


def parse(content: bytes, name: str, max_bytes: int = MAX_BYTES) -> etree._ElementTree:
    if len(content) > max_bytes:
        raise DeploymentError(
            f"{name}: file is {len(content):,} bytes, over the limit of {max_bytes:,}"
        )
    if b"<!DOCTYPE" in content.upper() or b"<!ENTITY" in content.upper():
        raise DeploymentError(f"{name}: DTDs and entity declarations are not allowed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise DeploymentError(f"{name}: not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise DeploymentError(f"{name}: DTDs and entity declarations are not allowed")
    return tree
