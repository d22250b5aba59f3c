// Forum, directory and event values as the Rust side sends them, for component tests.
import type { Category, EventView, PostView, Profile, ThreadSummary, ThreadView } from '../lib/forum/api';

export const T1 = '01939a2b-7c4d-7e8f-9a0b-1c2d3e4f5a6b';
export const P2 = '01939a2b-7c4d-7e8f-9a0b-000000000002';

export const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

export function category(partial: Partial<Category> & Pick<Category, 'id' | 'title'>): Category {
  return { kind: 'general', threads: 0, unread_threads: 0, ...partial };
}

export function threadSummary(partial: Partial<ThreadSummary> & Pick<ThreadSummary, 'id' | 'title'>): ThreadSummary {
  return {
    category: 'general',
    author_name: 'NFP Baraka',
    country: 'UG',
    hidden: false,
    replies: 0,
    last_activity: minutesAgo(30),
    unread: false,
    locked: false,
    pending: false,
    ...partial,
  };
}

export function post(partial: Partial<PostView> & Pick<PostView, 'id'>): PostView {
  return {
    author: 'baraka',
    author_name: 'NFP Baraka',
    country: 'UG',
    created_at: minutesAgo(60),
    body_html: '<p>Hello</p>',
    hidden: false,
    edited: false,
    pending: false,
    mine: false,
    conflict: null,
    ...partial,
  };
}

export function threadView(posts: PostView[], partial: Partial<ThreadView> = {}): ThreadView {
  return { id: T1, category: 'general', title: 'Credentials for COP15', hidden: false, locked: false, posts, ...partial };
}

export function profile(partial: Partial<Profile> & Pick<Profile, 'username' | 'display_name'>): Profile {
  return { role: 'nfp', country: 'KE', instruments: ['CMS', 'AEWA'], shared: {}, ...partial };
}

export function event(partial: Partial<EventView> & Pick<EventView, 'id' | 'title'>): EventView {
  return {
    starts_on: '2099-03-10',
    ends_on: '2099-03-12',
    location: 'Nairobi, Kenya',
    region: 'africa',
    instrument: 'AEWA',
    registration_closes_on: '2099-02-28',
    registration_open: true,
    capacity: 30,
    registration: 'none',
    ...partial,
  };
}
