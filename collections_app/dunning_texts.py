"""The words of dunning letters and e-mails in each policy language (English, German, French).

Every letter is printed in its legal entity's language (the policy's), never the reader's
browser language: a German entity's customer gets the German letter from the German company.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title_friendly": "Payment reminder", "title_firm": "Second reminder", "title_final": "Final notice",
        "opening_friendly": "Our records show that the invoices below are past due. Perhaps this has escaped your "
                            "attention: please pay the amount due at your earliest convenience.",
        "opening_firm": "Despite our earlier reminder, the invoices below are still unpaid. Please pay the amount "
                        "due within 7 days.",
        "opening_final": "The invoices below remain unpaid despite our reminders. Unless we receive payment within "
                         "7 days we will pass the matter to a collection agency without further notice.",
        "invoice": "Invoice", "due": "Due", "days": "Days overdue", "open": "Open", "excluded": "Not claimed",
        "collectible": "Claimed", "level": "Level", "interest": "Interest", "fee": "Compensation",
        "credits": "Your unapplied payments and credits", "to_pay": "Amount due",
        "left_out": "Not claimed in this letter", "fees_note": "Statutory late-payment interest (reference rate "
        "{rate}% plus {margin} points a year, per day overdue) and the fixed compensation of {comp} per invoice "
        "under Directive 2011/7/EU are shown for information; they are not charged to your account by this letter.",
        "pay_to": "Please pay to", "regards": "Kind regards", "dear": "Dear Sir or Madam,",
        "already_paid": "If you have paid in the meantime, please disregard this letter.",
        "subject": "{title}: {count} overdue invoice(s), {amount} due - {entity}",
    },
    "de": {
        "title_friendly": "Zahlungserinnerung", "title_firm": "Zweite Mahnung", "title_final": "Letzte Mahnung",
        "opening_friendly": "Nach unseren Unterlagen sind die folgenden Rechnungen überfällig. Vermutlich ist "
                            "Ihnen dies entgangen: Bitte begleichen Sie den offenen Betrag zeitnah.",
        "opening_firm": "Trotz unserer Erinnerung sind die folgenden Rechnungen weiterhin offen. Bitte zahlen Sie "
                        "den fälligen Betrag innerhalb von 7 Tagen.",
        "opening_final": "Die folgenden Rechnungen sind trotz unserer Mahnungen unbezahlt. Geht die Zahlung nicht "
                         "innerhalb von 7 Tagen ein, übergeben wir die Forderung ohne weitere Ankündigung einem "
                         "Inkassounternehmen.",
        "invoice": "Rechnung", "due": "Fällig", "days": "Tage überfällig", "open": "Offen",
        "excluded": "Nicht gefordert", "collectible": "Gefordert", "level": "Stufe", "interest": "Zinsen",
        "fee": "Pauschale", "credits": "Ihre nicht zugeordneten Zahlungen und Gutschriften",
        "to_pay": "Fälliger Betrag", "left_out": "In diesem Schreiben nicht gefordert",
        "fees_note": "Gesetzliche Verzugszinsen (Basiszinssatz {rate}% zuzüglich {margin} Prozentpunkte p.a., je "
                     "Verzugstag) und die Pauschale von {comp} je Rechnung nach Richtlinie 2011/7/EU werden zur "
                     "Information ausgewiesen; sie werden mit diesem Schreiben nicht belastet.",
        "pay_to": "Bitte zahlen Sie an", "regards": "Mit freundlichen Grüßen", "dear": "Sehr geehrte Damen und Herren,",
        "already_paid": "Sollten Sie inzwischen gezahlt haben, betrachten Sie dieses Schreiben bitte als "
                        "gegenstandslos.",
        "subject": "{title}: {count} überfällige Rechnung(en), {amount} fällig - {entity}",
    },
    "fr": {
        "title_friendly": "Rappel de paiement", "title_firm": "Deuxième relance", "title_final": "Mise en demeure",
        "opening_friendly": "Sauf erreur de notre part, les factures ci-dessous sont échues. Nous vous remercions "
                            "de bien vouloir régler le montant dû dans les meilleurs délais.",
        "opening_firm": "Malgré notre précédent rappel, les factures ci-dessous restent impayées. Merci de régler "
                        "le montant dû sous 7 jours.",
        "opening_final": "Les factures ci-dessous restent impayées malgré nos relances. À défaut de paiement sous "
                         "7 jours, nous confierons le recouvrement à un cabinet sans autre préavis.",
        "invoice": "Facture", "due": "Échéance", "days": "Jours de retard", "open": "Restant dû",
        "excluded": "Non réclamé", "collectible": "Réclamé", "level": "Niveau", "interest": "Intérêts",
        "fee": "Indemnité", "credits": "Vos paiements non affectés et avoirs", "to_pay": "Montant dû",
        "left_out": "Non réclamé dans ce courrier",
        "fees_note": "Les intérêts de retard légaux (taux de référence {rate}% majoré de {margin} points par an, par "
                     "jour de retard) et l'indemnité forfaitaire de {comp} par facture (directive 2011/7/UE) sont "
                     "indiqués pour information ; ils ne sont pas facturés par ce courrier.",
        "pay_to": "Merci de régler à", "regards": "Cordialement", "dear": "Madame, Monsieur,",
        "already_paid": "Si vous avez réglé entre-temps, merci de ne pas tenir compte de ce courrier.",
        "subject": "{title} : {count} facture(s) échue(s), {amount} dû - {entity}",
    },
}


def texts(language: str) -> dict[str, str]:
    return TEXTS.get(language) or TEXTS["en"]


def letter_words(language: str, template: str, **fmt: Any) -> dict[str, str]:
    """The words of one letter: its title and opening for the template, the rest as they are."""
    words = dict(texts(language))
    words["title"] = words[f"title_{template}"]
    words["opening"] = words[f"opening_{template}"]
    words["fees_note"] = words["fees_note"].format(**fmt) if fmt else words["fees_note"]
    return words
