// Keeps the server-rendered list live: resume from the page's cursor.
const main = document.getElementById('items');
const status = document.getElementById('status');
const topics = main.dataset.topics;
let cursor = main.dataset.cursor;

function card(item) {
  const article = document.createElement('article');
  article.className = `item priority-${item.priority}`;
  article.id = `item-${item.id}`;
  article.dataset.id = item.id;
  const h2 = document.createElement('h2');
  const a = document.createElement('a');
  a.href = item.url ?? `/items/${encodeURIComponent(item.id)}`;
  a.textContent = item.headline;
  h2.append(a);
  article.append(h2);
  if (item.summary) {
    const p = document.createElement('p');
    p.className = 'summary';
    p.textContent = item.summary;
    article.append(p);
  }
  return article;
}

function connect(delay = 500) {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (topics !== 'all') url.searchParams.set('topics', topics);
  if (cursor) url.searchParams.set('cursor', cursor);
  const ws = new WebSocket(url);
  ws.onopen = () => { status.dataset.state = 'live'; status.textContent = 'live'; delay = 500; };
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.cursor) cursor = frame.cursor;
    if (frame.type === 'reset') {
      main.replaceChildren(...frame.items.map(card));
    } else if (frame.type === 'event') {
      document.getElementById(`item-${frame.item.id}`)?.remove();
      if (frame.event !== 'retracted') main.prepend(card(frame.item));
    }
  };
  ws.onclose = () => {
    status.dataset.state = 'reconnecting';
    status.textContent = 'reconnecting…';
    setTimeout(() => connect(Math.min(delay * 2, 15000)), delay * (0.5 + Math.random()));
  };
}
connect();
