// Alerts with the page closed (Web Push): the reader chooses the topics and
// the least urgent stories that may interrupt them, the browser subscribes
// with our key, and the server keeps the subscription with those choices.

const CHOICES = 'newswire:push-choices';

export function pushAlerts({ button, dialog, pageTopics }) {
  const supported = Boolean(button && dialog) && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  if (!supported) return;
  const form = dialog.querySelector('form');
  const status = dialog.querySelector('[role="status"]');
  const off = dialog.querySelector('[data-action="off"]');
  button.hidden = false;

  const say = (text) => {
    status.textContent = text;
  };

  async function registration() {
    return navigator.serviceWorker.register('/assets/sw.js', { scope: '/assets/' });
  }

  async function current() {
    const reg = await navigator.serviceWorker.getRegistration('/assets/');
    return reg ? reg.pushManager.getSubscription() : null;
  }

  async function render() {
    const subscription = await current().catch(() => null);
    button.setAttribute('aria-pressed', String(Boolean(subscription)));
    button.textContent = subscription ? 'Alerts on' : 'Alerts';
    off.hidden = !subscription;
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(CHOICES) ?? 'null');
    } catch {
      // nothing remembered
    }
    if (saved) {
      const priority = form.elements.namedItem('minPriority');
      if (priority) priority.value = saved.minPriority;
      const scope = form.elements.namedItem('scope');
      if (scope) scope.value = saved.topics.length ? 'page' : 'all';
    }
  }

  button.addEventListener('click', () => {
    say('');
    void render();
    dialog.showModal();
  });
  dialog.querySelector('[data-action="close"]').addEventListener('click', () => dialog.close());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const minPriority = form.elements.namedItem('minPriority').value;
    const topics = form.elements.namedItem('scope')?.value === 'page' ? pageTopics : [];
    say('Turning alerts on…');
    try {
      const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
      if (permission !== 'granted') {
        say('Alerts are blocked for this site in your browser settings.');
        return;
      }
      const reg = await registration();
      const { publicKey } = await (await fetch('/api/v1/push/key')).json();
      const subscription =
        (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey }));
      const response = await fetch('/api/v1/push/subscriptions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subscription: subscription.toJSON(), topics, minPriority }),
      });
      if (!response.ok) throw new Error((await response.json()).error?.message ?? `the server answered ${response.status}`);
      try {
        localStorage.setItem(CHOICES, JSON.stringify({ topics, minPriority }));
      } catch {
        // the subscription stands; the form just won't remember the choice
      }
      say('Alerts are on. You can close this page.');
    } catch (error) {
      say(`Alerts could not be turned on in this browser: ${error instanceof Error ? error.message : String(error)}`);
    }
    await render();
  });

  off.addEventListener('click', async () => {
    try {
      const subscription = await current();
      if (subscription) {
        await fetch('/api/v1/push/subscriptions', {
          method: 'DELETE',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ endpoint: subscription.endpoint }),
        });
        await subscription.unsubscribe();
      }
      say('Alerts are off.');
    } catch (error) {
      say(`Alerts could not be turned off: ${error instanceof Error ? error.message : String(error)}`);
    }
    await render();
  });

  void render();
}
