"""Counts words: the most frequent first, ties in alphabetical order."""
from collections import Counter
import re

WORD = re.compile(r"[a-z']+")


def top_words(text: str, n: int) -> list[tuple[str, int]]:
    counts = Counter(WORD.findall(text.lower()))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
