// The service worker of reader alerts: shows what the server pushes (a
// breaking story, a correction the editor re-announced, or the withdrawal
// that replaces an alert: same tag), and opens the story when clicked.

self.addEventListener('push', (event) => {
  let message;
  try {
    message = event.data?.json();
  } catch {
    return;
  }
  if (!message?.title) return;
  const options = {
    body: message.body ?? '',
    tag: message.tag,
    data: { url: message.url, kind: message.kind },
    // A correction or a withdrawal replaces the alert quietly; a flash insists.
    renotify: message.kind === 'update',
    silent: message.kind === 'withdrawn',
    requireInteraction: message.priority === 'flash',
    icon: '/assets/favicon.svg',
  };
  event.waitUntil(self.registration.showNotification(message.title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url;
  if (!url) return;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((client) => client.url === url);
      if (open) return open.focus();
      return self.clients.openWindow(url);
    })(),
  );
});
