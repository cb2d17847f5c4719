/**
 * The only place that touches process signals. The first SIGTERM/SIGINT starts a graceful
 * shutdown; a second one means "now" (exit 130/143 at once, rows in flight roll back).
 */
export function handleSignals(onSignal: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received > 1) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    onSignal(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
