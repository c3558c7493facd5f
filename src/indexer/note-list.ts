/** Notes kept per list; a hostile layer could otherwise make one note per entry. */
export const MAX_NOTES = 100;
/** Characters kept of one note (they quote entry names, which can be 4 KiB). */
const MAX_NOTE_LENGTH = 500;

/** A list of plain-words notes that keeps the first `max` and counts the rest. */
export class NoteList {
  readonly #notes: string[] = [];
  readonly #max: number;
  #omitted = 0;

  constructor(max = MAX_NOTES) {
    this.#max = max;
  }

  /** Adds a note (cut to 500 characters), or counts it when the list is full. */
  add(note: string): void {
    if (this.#notes.length >= this.#max) this.#omitted++;
    else this.#notes.push(note.length > MAX_NOTE_LENGTH ? `${note.slice(0, MAX_NOTE_LENGTH)}…` : note);
  }

  /** The notes kept, plus one saying how many were left out. */
  toArray(): string[] {
    return this.#omitted === 0 ? [...this.#notes] : [...this.#notes, `${this.#omitted} more notes left out`];
  }
}
