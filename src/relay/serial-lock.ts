/**
 * A FIFO lock for async sections. The relay holds it from loading a batch's records until its
 * messages are in librdkafka's queue: whichever batch read a resource's state later also enqueues
 * it later, so within one process a newer state can never be overtaken by an older one.
 */
export class SerialLock {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(section: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await section();
    } finally {
      release();
    }
  }
}
