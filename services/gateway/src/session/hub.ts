import type { RoomEventRecord } from '@chat/kafka';

export interface RoomListener {
  onRoomEvent(record: RoomEventRecord): void;
}

/** Who on this gateway listens to which room. Knows nothing of transports. */
export class Hub {
  private readonly rooms = new Map<string, Set<RoomListener>>();

  add(room: string, listener: RoomListener): void {
    let listeners = this.rooms.get(room);
    if (!listeners) {
      listeners = new Set();
      this.rooms.set(room, listeners);
    }
    listeners.add(listener);
  }

  remove(room: string, listener: RoomListener): void {
    const listeners = this.rooms.get(room);
    if (!listeners) return;
    listeners.delete(listener);
    if (listeners.size === 0) this.rooms.delete(room);
  }

  /** Hands one event, parsed once, to every local listener of its room. */
  publish(record: RoomEventRecord): void {
    const listeners = this.rooms.get(record.room);
    if (!listeners) return;
    for (const listener of listeners) listener.onRoomEvent(record);
  }

  get roomCount(): number {
    return this.rooms.size;
  }
}
