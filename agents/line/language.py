"""Which language the bot speaks: Thai when a message is mostly Thai script, English otherwise.
The same decision picks the language of the canned messages (greetings, rate limits, file
notices), so a user who writes Thai is answered in Thai."""

from __future__ import annotations

from typing import Literal

Language = Literal["th", "en"]

THAI_BLOCK = range(0x0E00, 0x0E80)
# a Thai question often carries English terms or figures; a third of the letters is enough
THAI_SHARE = 0.3


def detect_language(text: str) -> Language:
    """``th`` when at least a third of the letters are Thai, else ``en``."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    thai = sum(1 for ch in letters if ord(ch) in THAI_BLOCK)
    return "th" if thai / len(letters) >= THAI_SHARE else "en"


def language_from_profile(code: str | None) -> Language:
    """The language of a LINE profile's ``language`` field (``th``, ``en``, ``ja``...)."""
    return "th" if (code or "").lower().startswith("th") else "en"
