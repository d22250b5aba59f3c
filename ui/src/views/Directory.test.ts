import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { DirectoryFilter, Profile } from '../lib/forum/api';
import { goTo, mockBackend, syncStatus, type Args, type Reply } from '../test/backend';
import { profile } from '../test/forum-fixtures';

const people: Profile[] = [
  profile({ username: 'amina', display_name: 'Amina Odhiambo', country: 'KE', shared: { organisation: 'KWS', email: 'amina@kws.example' } }),
  profile({ username: 'baraka', display_name: 'Baraka Okello', country: 'UG', instruments: ['CMS'] }),
  profile({ username: 'claire', display_name: 'Claire Dubois', country: 'FR', instruments: ['EUROBATS'], shared: { languages: ['fr', 'en'] } }),
  profile({ username: 'sec', display_name: 'Secretariat desk', role: 'secretariat', country: null, instruments: [] }),
];

/** What the Rust side does with a filter, closely enough for the view. */
function filtered(a: Args): Profile[] {
  const f = a as unknown as DirectoryFilter;
  return people.filter(
    (p) =>
      (!f.query || p.display_name.toLowerCase().includes(f.query.toLowerCase())) &&
      (!f.country || p.country === f.country) &&
      (!f.instrument || p.instruments.includes(f.instrument)) &&
      (!f.region || (f.region === 'africa' && ['KE', 'UG'].includes(p.country ?? ''))),
  );
}

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/directory');
  const backend = mockBackend({ directory: filtered, ...replies });
  const user = userEvent.setup();
  render(App);
  await screen.findAllByTestId('directory-entry');
  return { backend, user };
}

const names = () => screen.getAllByTestId('directory-entry').map((e) => e.dataset.username);

describe('Directory', () => {
  it('lists everyone with what they share, under a nav entry', async () => {
    await open();
    expect(screen.getByTestId('nav-directory').getAttribute('aria-current')).toBe('page');
    expect(names()).toEqual(['amina', 'baraka', 'claire', 'sec']);
    const amina = screen.getAllByTestId('directory-entry')[0]!;
    expect(amina.textContent).toContain('National Focal Point · Kenya · CMS, AEWA');
    expect(amina.textContent).toContain('KWS');
    expect(amina.textContent).toContain('amina@kws.example');
    expect(screen.getAllByTestId('directory-entry')[1]!.textContent).toContain('No contact details shared.');
    expect(screen.getAllByTestId('directory-entry')[2]!.textContent).toContain('French, English');
    expect(screen.getAllByTestId('directory-entry')[3]!.textContent).toContain('Secretariat');
    expect(screen.getByTestId('directory-count').textContent).toBe('4 people');
  });

  it('searches by name and filters by country, instrument and region', async () => {
    const { backend, user } = await open();
    await user.type(screen.getByTestId('directory-search'), 'bar');
    await waitFor(() => expect(names()).toEqual(['baraka']));
    expect(backend.argsOf('directory').at(-1)).toEqual({ query: 'bar', country: null, instrument: null, region: null });
    await user.clear(screen.getByTestId('directory-search'));
    await waitFor(() => expect(names()).toHaveLength(4));

    const country = screen.getByTestId('directory-country') as HTMLSelectElement;
    // The choices are the countries present, by name.
    expect([...country.options].map((o) => o.textContent)).toEqual(['All', 'France', 'Kenya', 'Uganda']);
    await user.selectOptions(country, 'KE');
    await waitFor(() => expect(names()).toEqual(['amina']));
    await user.selectOptions(country, '');

    await user.selectOptions(screen.getByTestId('directory-instrument'), 'EUROBATS');
    await waitFor(() => expect(names()).toEqual(['claire']));
    await user.selectOptions(screen.getByTestId('directory-instrument'), '');

    const region = screen.getByTestId('directory-region') as HTMLSelectElement;
    expect([...region.options].map((o) => o.value)).toContain('south-central-america-caribbean');
    await user.selectOptions(region, 'africa');
    await waitFor(() => expect(names()).toEqual(['amina', 'baraka']));
    expect(backend.argsOf('directory').at(-1)).toEqual({ query: '', country: null, instrument: null, region: 'africa' });
  });

  it('says when nobody matches', async () => {
    const { user } = await open();
    await user.type(screen.getByTestId('directory-search'), 'zzz');
    expect((await screen.findByTestId('directory-empty')).textContent).toContain('Nobody matches');
  });

  it('lets the signed-in NFP share their contact details', async () => {
    const { backend, user } = await open({
      sync_status: syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina' }),
      set_my_contact: null,
    });
    await user.click(await screen.findByTestId('my-contact-edit'));
    const form = screen.getByTestId('my-contact');
    const org = within(form).getByTestId('my-contact-organisation') as HTMLInputElement;
    expect(org.value).toBe('KWS');
    await user.clear(org);
    await user.type(org, ' Kenya Wildlife Service ');
    await user.type(within(form).getByTestId('my-contact-phone'), '+254 20 000');
    await user.click(within(form).getByRole('checkbox', { name: 'French' }));
    await user.click(within(form).getByTestId('my-contact-save'));
    await waitFor(() => expect(screen.getByTestId('my-contact-state').dataset.state).toBe('saved'));
    expect(backend.argsOf('set_my_contact')).toEqual([
      {
        contact: {
          organisation: 'Kenya Wildlife Service',
          email: 'amina@kws.example',
          phone: '+254 20 000',
          languages: ['fr'],
        },
      },
    ]);
  });

  it('shows why the card could not be saved', async () => {
    const { user } = await open({
      sync_status: syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina' }),
      set_my_contact: () => {
        throw { code: 'text_too_long', params: { max: 300 }, message: '`email` holds at most 300 characters' };
      },
    });
    await user.click(await screen.findByTestId('my-contact-edit'));
    await user.click(screen.getByTestId('my-contact-save'));
    expect((await screen.findByRole('alert')).textContent).toContain('This text is too long: at most 300 characters.');
  });

  it('offers no card to edit before signing in', async () => {
    await open();
    expect(screen.queryByTestId('my-contact-edit')).toBeNull();
  });
});
