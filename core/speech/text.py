"""Turning what a user types into words a speech model can say.

The speech checkpoints read English through a phoneme tokenizer (VitsTokenizer): either
characters straight from a small vocabulary, or espeak-ng phonemes when the tokenizer says
`phonemize=True`. Neither reads digits, symbols or abbreviations the way a person would, so
they are spelled out here first ("Dr. Smith paid $12.50" -> "doctor Smith paid twelve dollars,
fifty cents"). Text with nothing speakable left, or in a script the model never heard, is refused
with a clear message rather than turned into silence.
"""

from __future__ import annotations

import math
import re
import unicodedata

from core.errors import InputError, LoaError

# Speaking-rate rule for the duration of a line (documented in docs/speech.md):
# read speech runs near 150 words a minute, about 12 letters a second; a comma-like pause
# costs ~0.25 s and a sentence break ~0.5 s; 0.6 s of margin covers the onset and the tail.
LETTERS_PER_SECOND = 12.0
PAUSE_SECONDS = 0.25
SENTENCE_BREAK_SECONDS = 0.5
MARGIN_SECONDS = 0.6
MIN_SECONDS = 1.0

ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "ms": "miz", "dr": "doctor", "prof": "professor", "jr": "junior",
    "sr": "senior", "st": "saint", "mt": "mount", "ave": "avenue", "rd": "road", "co": "company",
    "inc": "incorporated", "ltd": "limited", "corp": "corporation", "vs": "versus", "etc": "et cetera",
    "approx": "approximately", "dept": "department", "est": "established", "fig": "figure",
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "aug": "August", "sep": "September",
    "sept": "September", "oct": "October", "nov": "November", "dec": "December",
}
# Only expanded when written with their dot (so "no" and "co" as words stay untouched); "no." only before a number.
DOTTED_PHRASES = {"e.g.": "for example", "i.e.": "that is", "a.m.": "a m", "p.m.": "p m", "u.s.": "U S"}
UNITS = {
    "km/h": "kilometres per hour", "mph": "miles per hour", "km": "kilometres", "kg": "kilograms",
    "cm": "centimetres", "mm": "millimetres", "ms": "milliseconds", "kHz": "kilohertz", "Hz": "hertz",
    "dB": "decibels", "GB": "gigabytes", "MB": "megabytes", "m": "metres", "g": "grams", "s": "seconds",
    "h": "hours", "min": "minutes", "lb": "pounds", "lbs": "pounds", "ft": "feet",
}
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
              "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "sen", "sen")}
SYMBOLS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "%": " percent ", "#": " number ",
           "°": " degrees ", "/": " slash ", "*": " ", "_": " ", "~": " about ", "<": " less than ",
           ">": " more than ", "|": ", ", "^": " ", "\\": " ", "×": " times ", "÷": " divided by ",
           "±": " plus or minus ", "§": " section ", "©": " copyright ", "®": " ", "™": " "}
PUNCTUATION_MAP = {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": ", ", "—": ", ",
                   "…": "...", "«": '"', "»": '"', "\u00a0": " "}

_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
MAX_NUMBER_DIGITS = 36


def normalize_text(text: str) -> str:
    """Spell out numbers, currency, abbreviations and symbols; return plain English words and punctuation.

    Raises InputError when nothing speakable remains or the text is in a script the model cannot read.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("the text to speak is empty: give the words to say.")
    out = unicodedata.normalize("NFKC", text)
    for old, new in PUNCTUATION_MAP.items():
        out = out.replace(old, new)
    out = re.sub(r"\s+", " ", out).strip()
    out = _minus_signs(out)
    _refuse_misgrouped_numbers(out)
    out = _expand_times(out)
    out = _expand_dotted(out)
    out = _expand_currency(out)
    out = _expand_ordinals(out)
    out = _expand_decades(out)
    out = _expand_numbers_with_units(out)
    out = _expand_percent_and_signs(out)
    out = _expand_numbers(out)
    out = _expand_abbreviations(out)
    for symbol, words in SYMBOLS.items():
        out = out.replace(symbol, words)
    out = _strip_accents(out)
    _refuse_unreadable_script(out, text)
    out = re.sub(r"[\[\]{}()]", ", ", out)
    out = re.sub(r"\s+([,.!?;:])", r"\1", out)
    out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)
    out = re.sub(r"\s+", " ", out).strip(" ,;:")
    if not re.search(r"[A-Za-z]", out):
        raise InputError(f"nothing speakable in {text.strip()[:60]!r}: it has no words once spelled out; "
                         "write the words to say.")
    return out


def estimate_seconds(normalized: str) -> float:
    """Duration for speaking `normalized` text by the speaking-rate rule above, rounded up to 0.1 s."""
    letters = len(re.findall(r"[A-Za-z]", normalized))
    pauses = len(re.findall(r"[,;:]", normalized))
    breaks = len(re.findall(r"[.!?]+(?=\s+\S)", normalized))  # sentence ends inside the text
    seconds = MARGIN_SECONDS + letters / LETTERS_PER_SECOND + pauses * PAUSE_SECONDS \
        + breaks * SENTENCE_BREAK_SECONDS
    return max(MIN_SECONDS, math.ceil(seconds * 10) / 10)


# ---- checks against the checkpoint's own tokenizer ----------------------------------------------

def check_phonemizer() -> None:
    """A phonemizing tokenizer needs the `phonemizer` package and the espeak-ng library; say how to get them."""
    try:
        from phonemizer.backend import EspeakBackend
    except ImportError as exc:
        raise LoaError("this speech model's tokenizer turns text into phonemes and needs the `phonemizer` "
                       "package: pip install phonemizer") from exc
    if not EspeakBackend.is_available():
        raise LoaError("this speech model's tokenizer needs the espeak-ng library for phonemes: install it "
                       "(Debian/Ubuntu: apt-get install espeak-ng; macOS: brew install espeak-ng).")


def phoneme_ids(tokenizer, normalized: str) -> list[int]:
    """The token ids the pipeline will feed its phoneme encoder, without padding."""
    if getattr(tokenizer, "phonemize", False):
        check_phonemizer()
    return list(tokenizer(normalized, padding=False, truncation=False).input_ids)


def check_speakable(tokenizer, normalized: str, original: str) -> list[int]:
    """Refuse text the tokenizer would reduce to nothing, or that overflows the phoneme window."""
    if not getattr(tokenizer, "phonemize", False) and getattr(tokenizer, "normalize", True):
        vocab = tokenizer.get_vocab()
        lost = list(dict.fromkeys(c for c in normalized.lower() if c.isalnum() and c not in vocab))  # text order
        if lost:
            raise InputError(f"cannot speak {original.strip()[:60]!r}: this model has no sound for "
                             f"{''.join(lost)!r}; write it in plain English letters.")
    ids = phoneme_ids(tokenizer, normalized)
    specials = {tokenizer.pad_token_id, tokenizer.unk_token_id}
    if not [i for i in ids if i not in specials]:
        raise InputError(f"cannot speak {original.strip()[:60]!r}: nothing in it maps to this model's "
                         "phonemes; write the words in plain English.")
    # The pipeline marks the end of the phonemes in the first padding slot, so one slot must stay free.
    room = int(tokenizer.model_max_length) - 1
    if len(ids) > room:
        raise InputError(f"the text is too long for one utterance ({len(ids)} phoneme tokens, at most {room}); "
                         "split it into sentences and speak them as a script (loa speak --script).")
    return ids


# ---- the expansions ------------------------------------------------------------------------------

def _words(number: float | int, to: str = "cardinal") -> str:
    from num2words import num2words

    return num2words(number, lang="en", to=to)


def _to_number(text: str) -> float | int:
    text = text.replace(",", "")
    return float(text) if "." in text else int(text)


def _say_number(text: str) -> str:
    """Digits as words: 1,200 -> one thousand, two hundred; 3.14 -> three point one four; 1999 -> a year.

    A number too long to spell out is refused: past 36 digits the names (undecillion...) mean nothing to a
    listener, and num2words itself overflows a little past 300 digits.
    """
    digits = len(re.sub(r"\D", "", text.split(".")[0]))
    try:
        if digits > MAX_NUMBER_DIGITS and not text.startswith("0"):  # 0-led codes are said digit by digit
            raise OverflowError(digits)
        return _spell_number(text)
    except (OverflowError, ValueError) as exc:
        shown = text if len(text) <= 16 else f"{text[:12]}..."
        raise InputError(f"cannot say the number {shown} ({digits} digits): it is too long to spell out; "
                         "write it in words, or as groups of digits separated by spaces.") from exc


def _spell_number(text: str) -> str:
    value = _to_number(text)
    if isinstance(value, int) and "," not in text and 1100 <= value <= 2099 and len(text) == 4:
        return _words(value, "year")
    if isinstance(value, float):
        whole, frac = text.replace(",", "").split(".")
        return f"{_words(int(whole))} point {' '.join(_words(int(d)) for d in frac)}"
    if len(text) > 1 and text.startswith("0"):
        return " ".join("oh" if d == "0" else _words(int(d)) for d in text)  # codes and phone numbers
    return _words(value)


def _minus_signs(text: str) -> str:
    """The Unicode minus (U+2212, what word processors and spreadsheets write) as the ASCII one the rules read;
    between two numbers it is a subtraction (10−3: ten minus three), not a range."""
    text = re.sub(r"(?<=\d)\s?\u2212\s?(?=\d)", " minus ", text)
    return text.replace("\u2212", "-")


def _refuse_misgrouped_numbers(text: str) -> None:
    """1,0000 is no number a reader can say (one thousand and a zero? ten thousand?): digits grouped by commas
    must come in threes after the first comma. Refused, naming the token, rather than spoken wrongly."""
    found = re.search(r"(?<![\d,.])\d{1,3}(?:,\d{3})*,\d{4,}", text)
    if found:
        token = re.match(r"[\d,.]+", text[found.start():]).group(0)
        raise InputError(f"cannot say the number {token}: digits after a comma must come in groups of three "
                         f"(1,000 or 10,000); write it without commas, e.g. {token.replace(',', '')}.")


def _expand_dotted(text: str) -> str:
    for phrase, words in DOTTED_PHRASES.items():
        text = re.sub(re.escape(phrase) + r"(?=\s|$|[,;:!?])", words, text, flags=re.IGNORECASE)
    return text


def _expand_currency(text: str) -> str:
    def money(m: re.Match) -> str:
        one, many, small_one, small_many = CURRENCIES[m.group(1)]
        amount = m.group(2).replace(",", "")
        scale = m.group(3)
        if scale:
            return f"{_say_number(m.group(2))} {scale} {many}"
        whole, _, cents = amount.partition(".")
        if len(cents) > 2:  # more decimals than cents: say what was written, not a rounded or cut amount
            return f"{_say_number(m.group(2))} {many}"
        major = int(whole)
        minor = int(cents.ljust(2, "0")) if cents else 0
        small = f"{_words(minor)} {small_one if minor == 1 else small_many}"
        if major == 0 and minor:
            return small
        words = f"{_words(major)} {one if major == 1 else many}"
        return f"{words}, {small}" if minor else words

    symbols = "".join(re.escape(s) for s in CURRENCIES)
    return re.sub(rf"([{symbols}])\s?({_NUMBER})(?:\s?(thousand|million|billion|trillion)\b)?", money, text)


def _expand_times(text: str) -> str:
    def time(m: re.Match) -> str:
        hours, minutes = int(m.group(1)), int(m.group(2))
        if minutes == 0:
            said = f"{_words(hours)} o'clock" if not m.group(3) else _words(hours)
        elif minutes < 10:
            said = f"{_words(hours)} oh {_words(minutes)}"
        else:
            said = f"{_words(hours)} {_words(minutes)}"
        if m.group(3):
            said += " " + " ".join(m.group(3).replace(".", "").lower())
        return said

    return re.sub(r"\b([01]?\d|2[0-3]):([0-5]\d)(?:\s?([ap]\.?m\.?)(?=\W|$))?", time, text, flags=re.IGNORECASE)


def _expand_ordinals(text: str) -> str:
    return re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: _words(int(m.group(1)), "ordinal"), text,
                  flags=re.IGNORECASE)


def _expand_decades(text: str) -> str:
    """1990s -> nineteen nineties, '80s -> eighties."""
    def decade(m: re.Match) -> str:
        said = _say_number(m.group(1)) if len(m.group(1)) == 4 else _words(int(m.group(1)))
        return said[:-1] + "ies" if said.endswith("y") else said + "s"

    return re.sub(r"(?<![\d,.])'?([2-9]0|1[1-9]\d0|20\d0)s\b", decade, text)


def _expand_numbers_with_units(text: str) -> str:
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))

    def unit(m: re.Match) -> str:
        return f"{_say_number(m.group(1))} {UNITS[m.group(2)]}"

    return re.sub(rf"({_NUMBER})\s?({units})(?![A-Za-z/])", unit, text)


def _expand_percent_and_signs(text: str) -> str:
    text = re.sub(rf"(?<![\w.])(-?)({_NUMBER})\s?°\s?([CF])\b",
                  lambda m: f"{'minus ' if m.group(1) else ''}{_say_number(m.group(2))} degrees "
                            f"{'celsius' if m.group(3) == 'C' else 'fahrenheit'}", text)
    text = re.sub(rf"({_NUMBER})\s?%", lambda m: f"{_say_number(m.group(1))} percent", text)
    text = re.sub(rf"(?<![\w.])-({_NUMBER})", lambda m: f"minus {_say_number(m.group(1))}", text)
    text = re.sub(rf"\bno\.\s?({_NUMBER})", lambda m: f"number {_say_number(m.group(1))}", text,
                  flags=re.IGNORECASE)
    text = re.sub(rf"#\s?({_NUMBER})", lambda m: f"number {_say_number(m.group(1))}", text)
    return text


def _expand_numbers(text: str) -> str:
    text = re.sub(rf"({_NUMBER})\s?-\s?({_NUMBER})", r"\1 to \2", text)  # ranges: 3-5 minutes
    return re.sub(_NUMBER, lambda m: f" {_say_number(m.group(0))} ", text)


def _expand_abbreviations(text: str) -> str:
    def abbreviation(m: re.Match) -> str:
        word = ABBREVIATIONS[m.group(1).lower()]
        if word == "saint" and not re.match(r"\s+[A-Z]", text[m.end():]):
            word = "street"  # "St. Paul" is a saint, "Main St." a street
        return word.capitalize() if m.group(1)[0].isupper() and word[0].islower() else word

    keys = "|".join(sorted(ABBREVIATIONS, key=len, reverse=True))
    return re.sub(rf"\b({keys})\.(?=\s|$|,)", abbreviation, text, flags=re.IGNORECASE)


def _strip_accents(text: str) -> str:
    """café -> cafe: keep the base letter of accented Latin characters."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _refuse_unreadable_script(text: str, original: str) -> None:
    foreign = list(dict.fromkeys(c for c in text if c.isalpha() and not c.isascii()))  # in the text's order
    if foreign:
        raise InputError(f"cannot speak {original.strip()[:60]!r}: the speech models read English in Latin "
                         f"letters, and {''.join(foreign[:8])!r} is outside it; write it in English.")
