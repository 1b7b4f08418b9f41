// The story page follows its own item: a reader is told when the story is
// corrected or withdrawn while they are reading it.
import { NewsClient } from './client.js';
import { connectionIndicator } from './status.js';

const main = document.getElementById('main');
const notice = document.getElementById('article-notice');
const id = main.dataset.id;
const version = Number(main.dataset.version);

function show(text, withdrawn) {
  notice.replaceChildren(text);
  notice.classList.toggle('withdrawn', withdrawn);
  main.classList.toggle('withdrawn', withdrawn);
  notice.hidden = false;
}

const client = new NewsClient({
  topics: main.dataset.topics.split(','),
  onState: connectionIndicator(document.getElementById('connection')),
  onEvent(frame) {
    if (frame.item.id !== id) return;
    if (frame.event === 'retracted') {
      show(`This story was withdrawn${frame.item.reason ? `: ${frame.item.reason}` : '.'}`, true);
      return;
    }
    if (frame.item.version <= version) return;
    const reload = document.createElement('a');
    reload.href = location.pathname;
    reload.textContent = 'Read the latest version';
    show(`This story has been updated${frame.item.changeNote ? ` (${frame.item.changeNote})` : ''}. `, false);
    notice.append(reload);
  },
});
client.start();
