import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { EventView } from '../lib/forum/api';
import { goTo, mockBackend, type Args, type Reply } from '../test/backend';
import { event } from '../test/forum-fixtures';

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/events');
  const backend = mockBackend(replies);
  const user = userEvent.setup();
  render(App);
  return { backend, user };
}

const card = (id: string) => screen.getAllByTestId('event').find((e) => e.dataset.id === id)!;

describe('Events', () => {
  it('lists the events with their dates, place and registration state, under a nav entry', async () => {
    await open({
      list_events: [
        event({ id: 'e1', title: 'AEWA training' }),
        event({ id: 'e2', title: 'Online refresher', starts_on: '2099-04-01', ends_on: '2099-04-01', location: 'Online', registration: 'registered', capacity: null, region: null, instrument: null }),
        event({ id: 'e3', title: 'Past workshop', registration_closes_on: '2000-01-01', registration_open: false }),
        // Closed by the laptop's calendar but open by the server's (the laptop's clock is years
        // ahead): the server's word counts.
        event({ id: 'e4', title: 'Open on the server', registration_closes_on: '2000-01-01', registration_open: true }),
      ],
    });
    await screen.findAllByTestId('event');
    expect(screen.getByTestId('nav-events').getAttribute('aria-current')).toBe('page');
    expect(card('e1').textContent).toContain('March 10, 2099 to March 12, 2099 · Nairobi, Kenya');
    expect(card('e1').textContent).toContain('Africa · AEWA · Registration closes on February 28, 2099 · 30 places');
    expect(within(card('e1')).getByTestId('event-register')).toBeTruthy();
    expect(card('e2').textContent).toContain('April 1, 2099 · Online');
    expect(within(card('e2')).getByTestId('event-state').textContent).toBe('Registered');
    expect(within(card('e2')).getByTestId('event-cancel')).toBeTruthy();
    expect(within(card('e3')).getByTestId('event-state').textContent).toBe('Registration closed');
    expect(within(card('e3')).queryByTestId('event-register')).toBeNull();
    expect(within(card('e4')).getByTestId('event-register')).toBeTruthy();
  });

  it('registers offline (waiting to be sent), then cancels', async () => {
    let current: EventView = event({ id: 'e1', title: 'AEWA training' });
    const { backend, user } = await open({
      list_events: () => [current],
      register_for_event: (a: Args) => {
        current = { ...current, registration: a.registered ? 'waiting' : 'none' };
        return current;
      },
    });
    await user.click(await screen.findByTestId('event-register'));
    await waitFor(() => expect(within(card('e1')).getByTestId('event-state').textContent).toBe('Registered here, waiting to be sent'));
    expect(card('e1').dataset.registration).toBe('waiting');
    await user.click(within(card('e1')).getByTestId('event-cancel'));
    await waitFor(() => expect(within(card('e1')).getByTestId('event-register')).toBeTruthy());
    expect(backend.argsOf('register_for_event')).toEqual([
      { eventId: 'e1', registered: true },
      { eventId: 'e1', registered: false },
    ]);
  });

  it('shows a cancellation waiting to be sent, the server’s refusal, and a failed registration', async () => {
    const { user } = await open({
      list_events: [
        event({ id: 'e1', title: 'Cancelled', registration: 'cancel_waiting' }),
        event({ id: 'e2', title: 'Full', refusal: { code: 'event_full', params: { capacity: 30 } } }),
      ],
      register_for_event: () => {
        throw {
          code: 'registration_closed',
          params: { closes: '2099-02-28' },
          message: 'registration for this event closed on 2099-02-28',
        };
      },
    });
    await screen.findAllByTestId('event');
    expect(within(card('e1')).getByTestId('event-state').textContent).toBe('Cancellation waiting to be sent');
    expect(within(card('e2')).getByTestId('event-refusal').textContent).toContain('The event is full: all 30 places are taken.');
    await user.click(within(card('e2')).getByTestId('event-register'));
    expect((await within(card('e2')).findByTestId('event-error')).textContent).toContain('closed on February 28, 2099');
  });

  it('says when there is no event yet', async () => {
    await open({ list_events: [] });
    expect((await screen.findByTestId('events-empty')).textContent).toContain('arrive with sync');
  });
});
