import { isSpace } from './scanner.js';

/**
 * Word splitting for `processWords`: unquoted text (including the value of an
 * unquoted `$VAR`) splits on white space, quoted or escaped text never does.
 * BuildKit's `wordsStruct`. A word that is only quotes (`""`) yields nothing,
 * exactly as BuildKit (it keeps no empty words).
 */
export class WordSplitter {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  /** An unquoted character: white space ends the current word. */
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  /** A quoted or escaped character: always part of the word. */
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  addRawString(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  /** The words so far, the pending one included. */
  getWords(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}
