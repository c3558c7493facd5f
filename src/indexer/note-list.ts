/** Notes kept per list; a hostile layer could otherwise make one note per entry. */
export const MAX_NOTES = 100;

/** A list of plain-words notes that keeps the first `max` and counts the rest. */
export class NoteList {
  readonly #notes: string[] = [];
  readonly #max: number;
  #omitted = 0;

  constructor(max = MAX_NOTES) {
    this.#max = max;
  }

  /** Adds a note, or counts it when the list is full. */
  add(note: string): void {
    if (this.#notes.length < this.#max) this.#notes.push(note);
    else this.#omitted++;
  }

  /** The notes kept, plus one saying how many were left out. */
  toArray(): string[] {
    return this.#omitted === 0 ? [...this.#notes] : [...this.#notes, `${this.#omitted} more notes left out`];
  }
}
