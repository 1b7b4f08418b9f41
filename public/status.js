// The connection indicator shared by every page: always visible, and a
// role="status" region so a change is announced without stealing focus.

const TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Offline',
};

/** Returns an onState handler that keeps `element` (#connection) up to date. */
export function connectionIndicator(element) {
  const text = element.querySelector('.connection-text') ?? element;
  return (state, info = {}) => {
    element.dataset.state = state === 'closed' ? 'offline' : state;
    const label = TEXT[state] ?? state;
    if (text.textContent !== label) text.textContent = label;
    // Details go in a tooltip: a changing countdown would be read out again and again.
    if (state === 'reconnecting' && info.delayMs !== undefined) {
      element.title = `Connection lost; trying again in ${Math.max(1, Math.round(info.delayMs / 1000))} s (attempt ${info.attempt})`;
    } else if (state === 'offline') {
      element.title = info.reason ? `Not connected: ${info.reason}` : 'Not connected';
    } else if (state === 'live') {
      element.title = 'Connected: new stories appear as they are published';
    } else {
      element.title = '';
    }
  };
}
