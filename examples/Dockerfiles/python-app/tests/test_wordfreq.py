import unittest

from wordfreq import top_words


class TopWordsTest(unittest.TestCase):
    def test_counts_case_insensitively(self):
        self.assertEqual(top_words("A a b", 2), [("a", 2), ("b", 1)])

    def test_ties_are_alphabetical(self):
        self.assertEqual(top_words("pear apple fig", 3), [("apple", 1), ("fig", 1), ("pear", 1)])

    def test_punctuation_is_not_a_word(self):
        self.assertEqual(top_words("hi, hi! don't", 5), [("hi", 2), ("don't", 1)])

    def test_empty(self):
        self.assertEqual(top_words("", 3), [])


if __name__ == "__main__":
    unittest.main()
