"""python3 -m wordfreq [--top N] TEXT...: prints `word count` lines."""
import argparse

from . import top_words


def main() -> None:
    parser = argparse.ArgumentParser(prog="wordfreq")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("text", nargs="+")
    args = parser.parse_args()
    for word, count in top_words(" ".join(args.text), args.top):
        print(f"{word} {count}")


main()
