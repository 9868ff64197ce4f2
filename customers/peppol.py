"""Peppol participant ids: the scheme (EAS, the Electronic Address Scheme code list) and the id a
customer is reachable under on the Peppol network, validated per scheme where its format is known.

The scheme list is the one the vendored Peppol BIS Billing 3.0 rules accept (PEPPOL-EN16931-CL008,
release 3.0.19); a test compares the two, so a rules update that drops a code (as 9906, the old
Italian VAT scheme, was dropped for 0211) fails until this list follows.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from stdnum import get_cc_module, iban, lei
from stdnum.exceptions import ValidationError as StdnumError

EAS_SCHEMES: dict[str, str] = {
    "0002": "SIRENE (France)",
    "0007": "Organisationsnummer (Sweden)",
    "0009": "SIRET (France)",
    "0037": "LY-tunnus (Finland)",
    "0060": "D-U-N-S Number",
    "0088": "Global Location Number (GLN)",
    "0096": "Danish Chamber of Commerce",
    "0097": "FTI - Ediforum Italia",
    "0106": "KvK, Chambers of Commerce (Netherlands)",
    "0130": "Directorates of the European Commission",
    "0135": "SIA Object Identifiers",
    "0142": "SECETI Object Identifiers",
    "0147": "Standard Company Code (Japan)",
    "0151": "Australian Business Number (ABN)",
    "0154": "ICO, identification number of economic subjects (Czechia)",
    "0158": "ICO, Act on State Statistics (Slovakia)",
    "0170": "Teikoku Company Code (Japan)",
    "0177": "Odette International",
    "0183": "Swiss Unique Business Identification Number (UIDB)",
    "0184": "DIGSTORG (Denmark)",
    "0188": "Corporate Number (Japan)",
    "0190": "Dutch Originator's Identification Number (OIN)",
    "0191": "Centre of Registers and Information Systems (Estonia)",
    "0192": "Enhetsregisteret, organisation number (Norway)",
    "0193": "UBL.BE party identifier (Belgium)",
    "0194": "KOIOS Open Technical Dictionary",
    "0195": "Singapore UEN",
    "0196": "Kennitala (Iceland)",
    "0198": "ERSTORG (Denmark)",
    "0199": "Legal Entity Identifier (LEI)",
    "0200": "Legal entity code (Lithuania)",
    "0201": "Codice Univoco Unita Organizzativa iPA (Italy)",
    "0202": "Indirizzo di Posta Elettronica Certificata (Italy)",
    "0203": "eDelivery Network Participant identifier",
    "0204": "Leitweg-ID (Germany)",
    "0205": "CODDEST (Italy)",
    "0208": "Enterprise number (Belgium)",
    "0209": "GS1 identification keys",
    "0210": "Codice fiscale (Italy)",
    "0211": "Partita IVA (Italy)",
    "0212": "Finnish Organization Identifier",
    "0213": "Finnish Organization VAT Identifier",
    "0215": "Net service ID (Finland)",
    "0216": "OVT code (Finland)",
    "0217": "KvK establishment number (Netherlands)",
    "0218": "Unified registration number (Latvia)",
    "0221": "Registered number of a qualified invoice issuer (Japan)",
    "0225": "FRCTC electronic address (France)",
    "0230": "National e-invoicing framework (Malaysia)",
    "0235": "UAE Tax Identification Number (TIN)",
    "0240": "Register of legal persons (Luxembourg)",
    "9910": "VAT number (Hungary)",
    "9913": "Business Registers Network",
    "9914": "VAT number (Austria)",
    "9915": "Austrian administration and organisation code",
    "9918": "IBAN (SWIFT)",
    "9919": "Kennziffer des Unternehmensregisters (Austria)",
    "9920": "VAT number (Spain, AEAT)",
    "9922": "VAT number (Andorra)",
    "9923": "VAT number (Albania)",
    "9924": "VAT number (Bosnia and Herzegovina)",
    "9925": "VAT number (Belgium)",
    "9926": "VAT number (Bulgaria)",
    "9927": "VAT number (Switzerland)",
    "9928": "VAT number (Cyprus)",
    "9929": "VAT number (Czechia)",
    "9930": "VAT number (Germany)",
    "9931": "VAT number (Estonia)",
    "9932": "VAT number (United Kingdom)",
    "9933": "VAT number (Greece)",
    "9934": "VAT number (Croatia)",
    "9935": "VAT number (Ireland)",
    "9936": "VAT number (Liechtenstein)",
    "9937": "VAT number (Lithuania)",
    "9938": "VAT number (Luxembourg)",
    "9939": "VAT number (Latvia)",
    "9940": "VAT number (Monaco)",
    "9941": "VAT number (Montenegro)",
    "9942": "VAT number (North Macedonia)",
    "9943": "VAT number (Malta)",
    "9944": "VAT number (Netherlands)",
    "9945": "VAT number (Poland)",
    "9946": "VAT number (Portugal)",
    "9947": "VAT number (Romania)",
    "9948": "VAT number (Serbia)",
    "9949": "VAT number (Slovenia)",
    "9950": "VAT number (Slovakia)",
    "9951": "VAT number (San Marino)",
    "9952": "VAT number (Turkey)",
    "9953": "VAT number (Vatican City)",
    "9957": "VAT number (France)",
    "9959": "Employer Identification Number (EIN, USA)",
}
EAS_CHOICES = [(code, f"{code} {name}") for code, name in EAS_SCHEMES.items()]

# Peppol schemes whose id is a VAT number with its country prefix, by that prefix. The e-invoice
# writers also use this to derive an address from a VAT id when a party has no participant id.
VAT_SCHEMES: dict[str, str] = {
    "AD": "9922", "AL": "9923", "AT": "9914", "BA": "9924", "BE": "9925", "BG": "9926", "CH": "9927",
    "CY": "9928", "CZ": "9929", "DE": "9930", "EE": "9931", "ES": "9920", "FR": "9957", "GB": "9932",
    "EL": "9933", "HR": "9934", "HU": "9910", "IE": "9935", "LI": "9936", "LT": "9937", "LU": "9938",
    "LV": "9939", "MC": "9940", "ME": "9941", "MK": "9942", "MT": "9943", "NL": "9944", "PL": "9945",
    "PT": "9946", "RO": "9947", "RS": "9948", "SI": "9949", "SK": "9950", "SM": "9951", "TR": "9952",
    "VA": "9953",
}
_VAT_PREFIX_BY_SCHEME = {scheme: prefix for prefix, scheme in VAT_SCHEMES.items()}
# stdnum's country module for a VAT prefix (Greece's VAT prefix is EL, its ISO code GR)
_STDNUM_COUNTRY = {"EL": "gr"}


def _stdnum(path: str) -> Callable[[str], str]:
    country, _, name = path.partition(".")
    module = get_cc_module(country, name)

    def check(value: str) -> str:
        return module.validate(value)

    return check


def _pattern(regex: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise StdnumError(f"expected {what}")
        return value

    return check


def _gln(value: str) -> str:
    digits = _pattern(r"\d{13}", "13 digits")(value)
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(digits[:-1]), start=1))
    if (10 - total % 10) % 10 != int(digits[-1]):
        raise StdnumError("the GS1 check digit does not match")
    return digits


def _vat(scheme: str) -> Callable[[str], str]:
    prefix = _VAT_PREFIX_BY_SCHEME[scheme]

    def check(value: str) -> str:
        value = value.upper()
        if not value.startswith(prefix):
            value = prefix + value
        module = get_cc_module(_STDNUM_COUNTRY.get(prefix, prefix.lower()), "vat")
        if module is None:  # no checksum known (e.g. Andorra): the prefix and a plausible length
            return _pattern(rf"{prefix}[A-Z0-9]{{6,14}}", f"{prefix} followed by the VAT number")(value)
        compact = module.validate(value)
        return compact if compact.upper().startswith(prefix) else prefix + compact

    return check


def _it_vat(value: str) -> str:
    digits = value.upper().removeprefix("IT")
    return _stdnum("it.iva")(digits)


def _jp_qualified_issuer(value: str) -> str:
    value = value.upper()
    if not value.startswith("T"):
        raise StdnumError("expected T followed by the 13-digit corporate number")
    return "T" + _stdnum("jp.cn")(value[1:])


# Formats known per scheme; the value returned is the normalised (compact) id.
_VALIDATORS: dict[str, Callable[[str], str]] = {
    "0002": _stdnum("fr.siren"),
    "0007": _stdnum("se.orgnr"),
    "0009": _stdnum("fr.siret"),
    "0037": _stdnum("fi.ytunnus"),
    "0060": _pattern(r"\d{9}", "the 9-digit D-U-N-S number"),
    "0088": _gln,
    "0106": _pattern(r"\d{8}", "the 8-digit KvK number"),
    "0151": _stdnum("au.abn"),
    "0183": _stdnum("ch.uid"),
    "0184": _stdnum("dk.cvr"),
    "0188": _stdnum("jp.cn"),
    "0190": _pattern(r"\d{20}", "the 20-digit OIN"),
    "0192": _stdnum("no.orgnr"),
    "0195": _stdnum("sg.uen"),
    "0196": _stdnum("is.kennitala"),
    "0199": lei.validate,
    "0204": _pattern(r"\d{2,12}(-[0-9A-Z]{1,30})?-\d{2}", "a Leitweg-ID such as 991-12345-67"),
    "0208": _pattern(r"[01]\d{9}", "the 10-digit enterprise number"),
    "0210": _stdnum("it.codicefiscale"),
    "0211": _it_vat,
    "0221": _jp_qualified_issuer,
    "9918": iban.validate,
    "9959": _stdnum("us.ein"),
    **{scheme: _vat(scheme) for scheme in _VAT_PREFIX_BY_SCHEME},
}

_GENERIC = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:_/@-]{0,49}")


def validate_participant_id(scheme: str, value: str) -> str:
    """The participant id's value in its compact form, or ValidationError naming the problem: the
    scheme must be on the EAS list; the value must match the scheme's format where it is known
    (GLN check digit, Norwegian org no, Swedish org no, VAT numbers with their checksum...), else be
    1 to 50 letters, digits and . : _ / @ -."""
    scheme = (scheme or "").strip()
    value = re.sub(r"\s+", "", value or "")
    if scheme not in EAS_SCHEMES:
        raise ValidationError(f"{scheme or 'An empty scheme'} is not on the Peppol EAS code list.")
    if not value:
        raise ValidationError("Enter the participant id that goes with the scheme.")
    check = _VALIDATORS.get(scheme)
    try:
        compact = check(value) if check else value
    except StdnumError as exc:
        raise ValidationError(f"{value} is not a valid {scheme} ({EAS_SCHEMES[scheme]}) id: "
                              f"{str(exc).rstrip('.')}.")
    if not _GENERIC.fullmatch(compact):
        raise ValidationError(f"{value} is not a valid Peppol participant id: use at most 50 letters, digits "
                              "and . : _ / @ -.")
    return compact


def vat_participant_id(vat_id: str) -> tuple[str, str] | None:
    """(scheme, id) of the Peppol VAT scheme for a VAT id carrying its country prefix, else None."""
    vat = re.sub(r"\s+", "", vat_id or "").upper()
    scheme = VAT_SCHEMES.get(vat[:2])
    return (scheme, vat) if scheme and len(vat) > 2 else None
