"""Validate UBL 2.1 invoices and credit notes the way a Peppol access point does:
1. the OASIS UBL 2.1 XSD (ubl-2.1/xsd/maindoc),
2. the EN 16931 business rules for UBL (en16931/EN16931-UBL-validation.xslt),
3. the Peppol BIS Billing 3.0 rules (peppol-bis-3/PEPPOL-EN16931-UBL.xslt).

Needs lxml and saxonche (a pinned dev dependency). Vendored into tests/standards/ so that the
suite reads nothing outside the repository (see README.md and LICENSES.md beside this file). Usable as a library:

    from tests.standards.validate_einvoice import Validator   # or the einvoice_validator fixture
    with Validator() as v:
        errors = v.errors(xml_bytes)        # [] when the document would be accepted
    # each error: {"layer": "xsd"|"EN16931"|"PEPPOL", "id": "BR-CO-09", "flag": "fatal", "text": ...}

or from the shell:  python validate_einvoice.py FILE.xml [FILE.xml ...]   (exit 1 on a fatal)

Warnings (flag="warning") are returned too; only fatal ones (and XSD errors) make a document
unacceptable.
"""
import os
import sys
import tempfile
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
MAINDOC = HERE / "ubl-2.1" / "xsd" / "maindoc"
RULES = {
    "EN16931": HERE / "en16931" / "EN16931-UBL-validation.xslt",
    "PEPPOL": HERE / "peppol-bis-3" / "PEPPOL-EN16931-UBL.xslt",
}
SCHEMAS = {"Invoice": "UBL-Invoice-2.1.xsd", "CreditNote": "UBL-CreditNote-2.1.xsd"}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


class Validator:
    def __enter__(self):
        from saxonche import PySaxonProcessor

        self._proc = PySaxonProcessor(license=False)
        xslt = self._proc.new_xslt30_processor()
        self._rules = {name: xslt.compile_stylesheet(stylesheet_file=str(path)) for name, path in RULES.items()}
        self._xsd = {}
        return self

    def __exit__(self, *exc):
        self._rules = {}
        return False

    def _schema(self, root_name):
        if root_name not in self._xsd:
            self._xsd[root_name] = etree.XMLSchema(etree.parse(str(MAINDOC / SCHEMAS[root_name])))
        return self._xsd[root_name]

    def errors(self, xml: bytes, *, fatal_only: bool = False) -> list[dict]:
        doc = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        root = etree.QName(doc).localname
        if root not in SCHEMAS:
            return [{"layer": "xsd", "id": "root", "flag": "fatal", "text": f"root element {root} is not Invoice or CreditNote"}]
        found = []
        schema = self._schema(root)
        if not schema.validate(doc):
            found += [{"layer": "xsd", "id": "xsd", "flag": "fatal", "text": f"line {e.line}: {e.message}"}
                      for e in schema.error_log]
        with tempfile.NamedTemporaryFile(suffix=".xml", delete=False) as f:
            f.write(xml)
            path = f.name
        try:
            for name, exe in self._rules.items():
                svrl = etree.fromstring(exe.transform_to_string(source_file=path).encode())
                for node in svrl.iter(SVRL + "failed-assert", SVRL + "successful-report"):
                    text = node.find(SVRL + "text")
                    found.append({"layer": name, "id": node.get("id"), "flag": node.get("flag") or "fatal",
                                  "location": node.get("location"),
                                  "text": " ".join((text.text or "").split()) if text is not None else ""})
        finally:
            os.unlink(path)
        if fatal_only:
            found = [e for e in found if e["flag"] == "fatal"]
        return found


def main(paths):
    bad = 0
    with Validator() as v:
        for p in paths:
            errs = v.errors(Path(p).read_bytes())
            fatal = [e for e in errs if e["flag"] == "fatal"]
            bad += bool(fatal)
            print(f"{p}: {'REFUSED' if fatal else 'accepted'} ({len(fatal)} fatal, {len(errs) - len(fatal)} warnings)")
            for e in errs:
                print(f"  [{e['layer']} {e['flag']}] {e['id']}: {e['text'][:200]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
