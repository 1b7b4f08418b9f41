// A list of items kept in step with the event stream: newest first, an update
// replaces its card where it stands, a retraction removes it.

export function findCard(container, id) {
  for (const child of container.children) if (child.dataset.id === id) return child;
  return null;
}

function publishedAt(card) {
  return card.dataset.published ?? card.querySelector('time[datetime]')?.dateTime ?? '';
}

/**
 * Puts `item`'s card in the list. Returns the card (or null when it falls off
 * the end) and the card it replaced, if any.
 */
export function upsert(container, item, makeCard, max) {
  const previous = findCard(container, item.id);
  const card = makeCard(item);
  if (previous) {
    previous.replaceWith(card);
    return { card, previous };
  }
  // A held item (newsroom only) has no publishedAt yet: it sorts by its release time.
  const at = item.publishedAt ?? item.embargoUntil ?? '';
  let placed = false;
  for (const other of container.children) {
    if (publishedAt(other) <= at) {
      container.insertBefore(card, other);
      placed = true;
      break;
    }
  }
  if (!placed && container.children.length < max) container.append(card);
  while (container.children.length > max) container.lastElementChild.remove();
  return { card: card.isConnected ? card : null, previous: null };
}

/** Removes the item's card; returns it (detached) or null. */
export function remove(container, id) {
  const card = findCard(container, id);
  card?.remove();
  return card;
}

/** Restarts the "just changed" highlight. */
export function markFresh(card) {
  card.classList.remove('fresh');
  void card.offsetWidth;
  card.classList.add('fresh');
}
