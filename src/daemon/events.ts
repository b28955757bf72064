/** What the daemon reports to `kovpn events` (one JSON object per line) and to its log. */

export type DaemonEventType = 'tunnel-up' | 'tunnel-down' | 'peer-up' | 'peer-down' | 'rekey' | 'expired' | 'error';

export interface DaemonEvent {
  time: string;
  type: DaemonEventType;
  device: string;
  peerId?: number;
  name?: string;
  remote?: string;
  vpnIpv4?: string;
  keyId?: number;
  cipher?: string;
  reason?: string;
}

export type EventInput = Omit<DaemonEvent, 'time' | 'device'>;

export class EventBus {
  private readonly listeners = new Set<(e: DaemonEvent) => void>();

  constructor(readonly device: string) {}

  emit(e: EventInput): void {
    const full: DaemonEvent = { time: new Date().toISOString(), device: this.device, ...e };
    for (const l of this.listeners) l(full);
  }

  on(listener: (e: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
