/** A bounded map of results of a pure function of a string: request values repeat, parsing them need not. */
export class Memo<T> {
  private readonly map = new Map<string, T>();

  constructor(
    private readonly max: number,
    private readonly compute: (key: string) => T,
  ) {}

  get(key: string): T {
    let value = this.map.get(key);
    if (value === undefined && !this.map.has(key)) {
      value = this.compute(key);
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(key, value);
    }
    return value as T;
  }
}
