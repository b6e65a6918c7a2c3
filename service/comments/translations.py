"""What a reader is told of a refused comment, in the widget's languages (English, German,
French): the widget sends its language as Accept-Language, and shows these texts beside the
fields. Only the texts a reader can meet are here; the rest of the API speaks English."""

# ruff: noqa: RUF001  (French takes the typographic apostrophe, as the widget's texts do)

from __future__ import annotations

import re
from typing import Any

LANGUAGES = ("en", "de", "fr")

# English text -> (German, French). German says "du", as the widget does; French "vous".
_TEXTS: dict[str, tuple[str, str]] = {
    "Your input could not be accepted": (
        "Deine Eingabe konnte nicht angenommen werden",
        "Votre saisie n’a pas pu être acceptée",
    ),
    "Some fields need your attention.": (
        "Einige Felder brauchen deine Aufmerksamkeit.",
        "Certains champs demandent votre attention.",
    ),
    "Must be text.": ("Muss Text sein.", "Doit être du texte."),
    "Must not contain the NUL character (U+0000).": (
        "Darf das NUL-Zeichen (U+0000) nicht enthalten.",
        "Ne doit pas contenir le caractère NUL (U+0000).",
    ),
    "Please enter your name.": ("Bitte gib deinen Namen ein.", "Veuillez indiquer votre nom."),
    "Names are at most 100 characters.": (
        "Namen haben höchstens 100 Zeichen.",
        "Les noms font au plus 100 caractères.",
    ),
    "Names cannot contain control or invisible formatting characters.": (
        "Namen dürfen keine Steuer- oder unsichtbaren Formatierungszeichen enthalten.",
        "Les noms ne peuvent pas contenir de caractères de contrôle"
        " ou de mise en forme invisibles.",
    ),
    "Please enter your name, not an email address: names are published.": (
        "Bitte gib deinen Namen ein, keine E-Mail-Adresse: Namen werden veröffentlicht.",
        "Veuillez indiquer votre nom, pas une adresse e-mail : les noms sont publiés.",
    ),
    "Please enter your email address. It will not be published.": (
        "Bitte gib deine E-Mail-Adresse ein. Sie wird nicht veröffentlicht.",
        "Veuillez indiquer votre adresse e-mail. Elle ne sera pas publiée.",
    ),
    "That email address is too long.": (
        "Diese E-Mail-Adresse ist zu lang.",
        "Cette adresse e-mail est trop longue.",
    ),
    "Websites are at most 500 characters.": (
        "Websites haben höchstens 500 Zeichen.",
        "Les sites web font au plus 500 caractères.",
    ),
    "Enter a website address starting with http:// or https://.": (
        "Bitte gib eine Webadresse ein, die mit http:// oder https:// beginnt.",
        "Veuillez saisir une adresse web commençant par http:// ou https://.",
    ),
    "Please write a comment.": (
        "Bitte schreibe einen Kommentar.",
        "Veuillez écrire un commentaire.",
    ),
    "Must be the id of the comment you reply to.": (
        "Muss die ID des Kommentars sein, auf den du antwortest.",
        "Doit être l’identifiant du commentaire auquel vous répondez.",
    ),
    "The comment you reply to is not on this article.": (
        "Der Kommentar, auf den du antwortest, gehört nicht zu diesem Artikel.",
        "Le commentaire auquel vous répondez n’est pas sur cet article.",
    ),
    "The comment you reply to is not published.": (
        "Der Kommentar, auf den du antwortest, ist nicht veröffentlicht.",
        "Le commentaire auquel vous répondez n’est pas publié.",
    ),
    "Your comment contains words this site does not accept.": (
        "Dein Kommentar enthält Wörter, die diese Website nicht annimmt.",
        "Votre commentaire contient des mots que ce site n’accepte pas.",
    ),
    "Comments are closed on this article.": (
        "Die Kommentare zu diesem Artikel sind geschlossen.",
        "Les commentaires sont fermés pour cet article.",
    ),
    "This site does not accept comments from you.": (
        "Diese Website nimmt keine Kommentare von dir an.",
        "Ce site n’accepte pas vos commentaires.",
    ),
}
# Texts with a part that varies: email-validator's English reason is left out.
_PATTERNS: list[tuple[re.Pattern[str], tuple[str, str]]] = [
    (
        re.compile(r"Enter a valid email address\..*", re.DOTALL),
        (
            "Bitte gib eine gültige E-Mail-Adresse ein.",
            "Veuillez saisir une adresse e-mail valide.",
        ),
    ),
    (
        re.compile(r"Comments are at most 10,000 characters \((?P<n>[\d,]+) now\)\."),
        (
            "Kommentare haben höchstens 10.000 Zeichen (jetzt {n}).",
            "Les commentaires font au plus 10 000 caractères ({n} actuellement).",
        ),
    ),
]


def translated(text: str, language: str) -> str:
    """text in the language (de or fr) when it is one of a reader's texts, else as it is."""
    if language not in ("de", "fr"):
        return text
    index = 0 if language == "de" else 1
    if text in _TEXTS:
        return _TEXTS[text][index]
    for pattern, versions in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            n = found.groupdict().get("n", "")
            digits = n.replace(",", "." if language == "de" else "\u202f")
            return versions[index].format(n=digits)
    return text


def translated_problem(doc: dict[str, Any], language: str) -> dict[str, Any]:
    """A problem document with its title, detail and field errors in the reader's language."""
    errors = [{**error, "detail": translated(error["detail"], language)} for error in doc["errors"]]
    return {
        **doc,
        "title": translated(doc["title"], language),
        "detail": translated(doc["detail"], language),
        "errors": errors,
    }
