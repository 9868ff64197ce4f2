"""A few hundred realistic customers with contacts across countries, portals and risk ratings.
Deterministic: the same seed gives the same demo."""

from __future__ import annotations

import random
import unicodedata
from decimal import Decimal

from faker import Faker
from simple_history.utils import bulk_create_with_history
from stdnum import get_cc_module

from customers.models import Contact, Customer
from customers.peppol import VAT_SCHEMES
from otc.models import User
from otc.services import counter_next

# country: (faker locale, currency, legal forms, share of customers, tax-id candidate maker)
_D = "0123456789"


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice(_D) for _ in range(n))


COUNTRIES = {
    "US": ("en_US", "USD", ["Inc.", "LLC", "Corp."], 30, lambda r: "1" + _digits(r, 1) + "-" + _digits(r, 7)),
    "DE": ("de_DE", "EUR", ["GmbH", "AG", "GmbH & Co. KG"], 16, lambda r: "1" + _digits(r, 8)),
    "GB": ("en_GB", "GBP", ["Ltd", "plc", "LLP"], 12, lambda r: _digits(r, 9)),
    "FR": ("fr_FR", "EUR", ["SAS", "SA", "SARL"], 8, lambda r: _digits(r, 11)),
    "NL": ("nl_NL", "EUR", ["B.V.", "N.V."], 6, lambda r: _digits(r, 9) + "B01"),
    "IE": ("en_IE", "EUR", ["Ltd", "DAC"], 4, lambda r: _digits(r, 7) + r.choice("ABCDEFGHJKLMNOPQRSTUVW")),
    "ES": ("es_ES", "EUR", ["S.L.", "S.A."], 4, lambda r: "B" + _digits(r, 8)),
    "IT": ("it_IT", "EUR", ["S.r.l.", "S.p.A."], 4, lambda r: _digits(r, 11)),
    "SE": ("sv_SE", "EUR", ["AB"], 3, lambda r: _digits(r, 10) + "01"),
    "AT": ("de_AT", "EUR", ["GmbH"], 2, lambda r: "U" + _digits(r, 8)),
    "JP": ("en_US", "JPY", ["K.K.", "Co., Ltd."], 4, lambda r: _digits(r, 13)),
    "CA": ("en_CA", "USD", ["Inc.", "Ltd."], 4, lambda r: _digits(r, 9)),
    "AU": ("en_AU", "USD", ["Pty Ltd"], 3, lambda r: "5" + _digits(r, 10)),
}

INDUSTRY_WORDS = ["Logistics", "Health", "Analytics", "Manufacturing", "Retail", "Energy", "Foods", "Media",
                  "Pharma", "Systems", "Telecom", "Capital", "Engineering", "Mobility", "Labs", "Consulting"]
PORTALS = [Customer.Portal.ARIBA] * 5 + [Customer.Portal.COUPA] * 4 + [Customer.Portal.TUNGSTEN] * 2 + [
    Customer.Portal.JAGGAER, Customer.Portal.OTHER]
HOLD_REASONS = ["Payment overdue more than 60 days", "Disputed invoices under review", "Credit review pending"]
BLOCK_REASONS = ["Insolvency proceedings opened", "Referred to collection agency"]


# Necessary conditions of a country's check, tried before python-stdnum's full validation (which
# decides): a random French candidate passes the TVA key about once in a hundred, and validating the
# ~13,000 candidates of a 60-customer demo in full was most of seeding its customers. The candidates
# drawn, and so the ids chosen, are the same.
_PRECHECK = {
    "FR": lambda c: int(c[:2]) == int(c[2:] + "12") % 97,  # stdnum.fr.tva: the key of an all-digit number
}


def _tax_id(r: random.Random, country: str, maker) -> str:
    module = get_cc_module(country.lower(), "vat") or get_cc_module(country.lower(), "tin")
    precheck = _PRECHECK.get(country, lambda candidate: True)
    for _ in range(20000):
        candidate = maker(r)
        if precheck(candidate) and module.is_valid(candidate):
            compact = module.compact(candidate)
            if country in {"DE", "FR", "NL", "IE", "ES", "IT", "SE", "AT", "GB"} and not compact.startswith(country):
                compact = country + compact
            return compact
    return ""


def _gln(r: random.Random) -> str:
    """A Global Location Number with a valid GS1 check digit (company prefix 579...)."""
    body = "579" + _digits(r, 9)
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(body), start=1))
    return body + str((10 - total % 10) % 10)


def _peppol(r: random.Random, country: str, tax_id: str) -> tuple[str, str]:
    """The Peppol participant id a customer of this country would typically be registered under:
    its VAT id in the country's VAT scheme (in about half the EU and UK cases left to the e-invoice
    writer, which derives the same address from the VAT id), the Swedish organisation number, the
    Italian partita IVA, the Australian ABN, the Japanese corporate number, else a GLN or a D-U-N-S
    number. Validated like any customer file (customers.peppol)."""
    vat_scheme = VAT_SCHEMES.get(tax_id[:2]) if tax_id[:2] == country else None
    if vat_scheme:
        return ("", "") if r.random() < 0.5 else (vat_scheme, tax_id)
    if country == "SE" and tax_id:
        return "0007", tax_id[2:12]
    if country == "IT" and tax_id:
        return "0211", tax_id[2:]
    if country == "AU" and tax_id:
        return "0151", tax_id
    if country == "JP" and tax_id:
        return "0188", tax_id
    if country == "US" and r.random() < 0.5:
        return "0060", _digits(r, 9)
    return "0088", _gln(r)


def seed_customers(*, count: int, owners: list[User], by: User, seed: int = 2026) -> list[Customer]:
    r = random.Random(seed)
    fakers = {code: Faker(locale) for code, (locale, *_rest) in COUNTRIES.items()}
    for index, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + index)
    weighted = [code for code, spec in COUNTRIES.items() for _ in range(spec[3])]
    numbers = counter_next(name="customer", count=count)
    used_names: set[str] = set()
    customers: list[Customer] = []
    for n in range(count):
        country = r.choice(weighted)
        _locale, currency, forms, _share, maker = COUNTRIES[country]
        fake = fakers[country]
        base = fake.last_name() if r.random() < 0.5 else fake.company().split(",")[0].split(" ")[0]
        short = f"{base} {r.choice(INDUSTRY_WORDS)}"
        while f"{short} {forms[0]}" in used_names:
            short = f"{base} {r.choice(INDUSTRY_WORDS)} {r.choice(INDUSTRY_WORDS)}"
        name = f"{short} {r.choice(forms)}"
        used_names.update(f"{short} {form}" for form in forms)
        risk = r.choices(["low", "medium", "high"], weights=[65, 27, 8])[0]
        status = r.choices(["active", "on_hold", "blocked", "inactive"], weights=[88, 6, 2, 4])[0]
        reason = ""
        if status == "on_hold":
            reason = r.choice(HOLD_REASONS)
        elif status == "blocked":
            reason = r.choice(BLOCK_REASONS)
        elif status == "inactive":
            reason = "Contract ended"
        portal = r.choice(PORTALS) if r.random() < 0.16 else Customer.Portal.NONE
        exempt = country == "US" and r.random() < 0.06
        credit = Decimal(r.choice([10_000, 25_000, 50_000, 100_000, 250_000, 500_000]))
        if currency == "JPY":
            credit *= 150
        customers.append(Customer(
            account_number=f"C{100000 + numbers[n]}",
            legal_name=name,
            display_name=short if r.random() < 0.3 else "",
            country=country,
            address_line1=fake.street_address()[:200],
            city=fake.city()[:100],
            region=(fake.state_abbr() if country == "US" else "")[:100],
            postal_code=fake.postcode()[:20],
            tax_id=_tax_id(r, country, maker) if r.random() < 0.93 else "",
            tax_exempt=exempt,
            tax_exemption_reference=f"EXM-{r.randint(100000, 999999)}" if exempt else "",
            default_currency=currency,
            payment_terms_days=r.choices([30, 45, 60, 14, 90], weights=[60, 12, 15, 8, 5])[0],
            credit_limit=credit,
            risk_rating=risk,
            status=status,
            status_reason=reason,
            sales_owner=r.choice(owners) if r.random() < 0.9 else None,
            invoice_delivery=Customer.Delivery.PORTAL if portal != Customer.Portal.NONE else r.choices(
                [Customer.Delivery.EMAIL, Customer.Delivery.POST], weights=[95, 5])[0],
            procurement_portal=portal,
            portal_supplier_id=f"AN{r.randint(10_000_000, 99_999_999)}" if portal != Customer.Portal.NONE else "",
            po_required=portal != Customer.Portal.NONE or r.random() < 0.12,
            external_crm_id=f"0016{r.randint(10**10, 10**11 - 1)}" if r.random() < 0.85 else None,
            notes="",
        ))
    peppol = random.Random(seed + 1)  # its own sequence: the rest of the demo stays as it was
    for customer in customers:
        customer.peppol_scheme, customer.peppol_id = _peppol(peppol, customer.country, customer.tax_id)
        if customer.procurement_portal in (Customer.Portal.ARIBA, Customer.Portal.COUPA):
            customer.portal_buyer_id = f"AN{peppol.randint(10**10, 10**11 - 1)}"
    created = bulk_create_with_history(customers, Customer, batch_size=500, default_user=by,
                                       default_change_reason="demo data")
    _link_groups(r, created)
    _seed_contacts(r, created, fakers, by)
    return created


def _link_groups(r: random.Random, customers: list[Customer]) -> None:
    """A few corporate groups: some customers are subsidiaries of another."""
    parents = customers[:8]
    for parent in parents:
        children = r.sample(customers[8:], 3)
        for child in children:
            Customer.objects.filter(pk=child.pk, parent__isnull=True).update(parent=parent)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def _seed_contacts(r: random.Random, customers: list[Customer], fakers: dict, by: User) -> None:
    contacts = []
    for customer in customers:
        fake = fakers[customer.country]
        domain = _ascii(customer.legal_name.split(" ")[0])[:20] or "customer"
        contacts.append(Contact(customer=customer, name=fake.name(), email=f"ap@{domain}.example",
                                phone=fake.phone_number()[:40], role="Accounts payable", is_billing_contact=True))
        for role in r.sample(["Controller", "CFO", "Procurement", "IT director", "Office manager"], r.randint(0, 2)):
            first, last = fake.first_name(), fake.last_name()
            email = f"{_ascii(first)}.{_ascii(last)}@{domain}.example"
            contacts.append(Contact(customer=customer, name=f"{first} {last}", email=email,
                                    phone=fake.phone_number()[:40], role=role, is_billing_contact=False))
    bulk_create_with_history(contacts, Contact, batch_size=1000, default_user=by, default_change_reason="demo data")
