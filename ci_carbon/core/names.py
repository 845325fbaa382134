"""Name matching shared by every lookup: forgiving about case, spaces and dashes, strict about the rest."""

from __future__ import annotations

import re

_DROP = re.compile(r"[\s\-_]+")


def normalise(name: str) -> str:
    """The key a name is matched by: 'NVIDIA A100-SXM4-80GB' and 'nvidia a100 sxm4 80gb' meet."""
    return _DROP.sub("", name).lower()


def nearest(name: str, candidates: dict[str, str], limit: int = 3) -> list[str]:
    """Display names whose keys are closest to ``name``; difflib is imported only on this error path."""
    import difflib

    keys = difflib.get_close_matches(normalise(name), list(candidates), n=limit * 3, cutoff=0.5)
    seen: list[str] = []
    for key in keys:
        shown = candidates[key]
        if shown not in seen:
            seen.append(shown)
    return seen[:limit]


def suggestion(options: list[str]) -> str | None:
    """The text after 'did you mean' for a list of names, or None."""
    if not options:
        return None
    return " or ".join(f"'{o}'" for o in options)


# Letters of other scripts drawn like Latin ones (Unicode TR39 confusables.txt, the Cyrillic and Greek letters
# it maps to a single Latin letter): a second job named 'trаin' with a Cyrillic а is a duplicate to a reader.
_LOOK_ALIKE = str.maketrans(
    "аеорсухіјѕԁһӏԛԝԍАВЕКМНОРСТХЅІЈҮԌοναρτυικΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlqwgABEKMHOPCTXSIJYGovaptuikABEZHIKMNOPTYX")


def skeleton(name: str) -> str:
    """What a name looks like: compatibility forms folded (NFKC: 'ｔｒａｉｎ' is 'train'), invisible characters
    (zero-width, bidi controls: Unicode category Cf) dropped, look-alike letters of other scripts made Latin.
    Two names with one skeleton cannot be told apart on screen, so they cannot both name a job."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return visible.translate(_LOOK_ALIKE).strip()


def differences(name: str) -> str:
    """The invisible and non-ASCII characters of a name, as code points (U+200B), for a message that shows why two
    names that look the same are not."""
    odd = dict.fromkeys(f"U+{ord(c):04X}" for c in name if ord(c) > 127 or not c.isprintable())
    return ", ".join(odd)
