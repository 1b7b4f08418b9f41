// Stories that look like a real wire, for screenshots and for a page that is
// not empty. The lead story is the shared seed fixture.
import { readFileSync } from 'node:fs';
import { api, type TestServer } from '../support/server.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));

export const seedStory = fixture as { publish: Record<string, any>; update: Record<string, any> };

export const WIRE: Record<string, any>[] = [
  {
    id: 'wire-markets-open',
    headline: 'European shares open higher as energy stocks extend their rally',
    summary: 'The pan-European index rose 0.6% in early trade, led by oil and gas producers after crude prices climbed for a third straight session.',
    topics: ['business', 'markets'],
    priority: 'routine',
    source: 'Newswire Markets Desk',
    language: 'en',
  },
  {
    id: 'wire-storm-warning',
    headline: 'Storm warning lifted for coastal areas as winds ease overnight',
    summary: 'Forecasters withdrew the amber warning after gusts fell below 50 km/h; ferry services are expected to resume on the morning timetable.',
    topics: ['weather', 'national'],
    priority: 'routine',
    source: 'Newswire',
    byline: 'Weather team',
  },
  {
    id: 'wire-cycle-lanes',
    headline: 'City council approves new protected cycle lanes for the river district',
    summary: 'The plan adds 14 km of separated lanes over two years and removes through traffic from three residential streets.',
    topics: ['national', 'transport'],
    priority: 'routine',
    source: 'Newswire',
  },
  {
    id: 'wire-quake',
    headline: 'Magnitude 6.2 earthquake strikes off the northern coast; no tsunami warning issued',
    summary: 'The quake struck at a depth of 35 km about 80 km offshore, the geological survey said. There were no immediate reports of damage.',
    topics: ['world', 'science'],
    priority: 'bulletin',
    source: 'Newswire',
  },
];

export async function seed(server: TestServer, stories: Record<string, any>[] = WIRE): Promise<void> {
  for (const story of stories) {
    const res = await api(server, 'POST', '/api/v1/items', story);
    if (res.status !== 201 && res.status !== 200) throw new Error(`seed failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** The wire, plus the lead story published and then corrected (a story with an update). */
export async function seedWithCorrection(server: TestServer): Promise<void> {
  await seed(server);
  await api(server, 'POST', '/api/v1/items', seedStory.publish);
  await api(server, 'PUT', `/api/v1/items/${seedStory.update.id}`, seedStory.update);
}
