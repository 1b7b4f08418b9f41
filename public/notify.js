// Opt-in desktop alerts for flash and bulletin items. Off until the reader
// presses the button; the choice is remembered on this device.

const KEY = 'newswire:desktop-alerts';

export function desktopAlerts(button) {
  // Phones show notifications only through a service worker (the Alerts button),
  // and insecure pages never: offer the button only where it can work.
  const touchOnly = window.matchMedia?.('(hover: none) and (pointer: coarse)').matches || navigator.userAgentData?.mobile === true;
  const supported = typeof Notification === 'function' && Boolean(button) && window.isSecureContext && !touchOnly;
  let wanted = false;
  try {
    wanted = localStorage.getItem(KEY) === 'on';
  } catch {
    // storage disabled: alerts stay off
  }

  function render() {
    if (!supported) return;
    button.hidden = false;
    const permission = Notification.permission;
    const on = wanted && permission === 'granted';
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? 'Desktop alerts on' : 'Desktop alerts';
    button.title =
      permission === 'denied'
        ? 'Alerts are blocked for this site in your browser settings'
        : on
          ? 'You get a desktop alert for flash and bulletin stories; press to turn off'
          : 'Get a desktop alert for flash and bulletin stories';
    button.disabled = permission === 'denied';
  }

  function remember(value) {
    wanted = value;
    try {
      localStorage.setItem(KEY, value ? 'on' : 'off');
    } catch {
      // not remembered, still applies to this page
    }
  }

  if (supported) {
    button.addEventListener('click', async () => {
      if (wanted && Notification.permission === 'granted') {
        remember(false);
      } else {
        const permission =
          Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
        remember(permission === 'granted');
      }
      render();
    });
    render();
  }

  return {
    /** Shows a desktop alert if the reader asked for them. */
    show(item, label, onClick) {
      if (!supported || !wanted || Notification.permission !== 'granted') return;
      try {
        const note = new Notification(`${label}: ${item.headline}`, {
          body: item.summary ?? '',
          tag: `newswire-${item.id}`,
          lang: item.language ?? '',
        });
        note.addEventListener('click', () => {
          window.focus();
          onClick?.();
          note.close();
        });
      } catch {
        // Some browsers only allow notifications from a service worker: the banner still shows.
      }
    },
  };
}
