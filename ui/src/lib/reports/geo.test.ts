import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en';
import { geoMessage, normalizeGeo } from './geo';

describe('typed coordinates', () => {
  it('reads points as people paste them and stores them as ODK does', () => {
    expect(normalizeGeo('geopoint', ' 12.5, -3.25 ')).toEqual({ ok: true, value: '12.5 -3.25' });
    expect(normalizeGeo('geopoint', '12.5 -3.25 100 5')).toEqual({ ok: true, value: '12.5 -3.25 100 5' });
    expect(normalizeGeo('geotrace', '1 2\n3, 4;')).toEqual({ ok: true, value: '1 2;3 4' });
    expect(normalizeGeo('geoshape', '0 0;0 1;1 1')).toEqual({ ok: true, value: '0 0;0 1;1 1;0 0' });
    expect(normalizeGeo('geoshape', '0 0;0 1;1 1;0 0')).toEqual({ ok: true, value: '0 0;0 1;1 1;0 0' });
  });

  it('says what is wrong, with the point', () => {
    const err = (kind: 'geopoint' | 'geotrace' | 'geoshape', text: string) => {
      const r = normalizeGeo(kind, text);
      return r.ok ? null : r.error;
    };
    expect(err('geopoint', '91 0')).toEqual({ code: 'latitude', point: 1 });
    expect(err('geopoint', '0 181')).toEqual({ code: 'longitude', point: 1 });
    expect(err('geopoint', '0 1 2 -1')).toEqual({ code: 'accuracy', point: 1 });
    expect(err('geopoint', 'north 1')).toEqual({ code: 'not_number', point: 1 });
    expect(err('geopoint', '1e3 1')).toEqual({ code: 'not_number', point: 1 });
    expect(err('geopoint', '12')).toEqual({ code: 'shape', point: 1 });
    expect(err('geopoint', '1 2;3 4')).toEqual({ code: 'one_point' });
    expect(err('geotrace', '1 2')).toEqual({ code: 'too_few_line' });
    expect(err('geotrace', '1 2;95 4')).toEqual({ code: 'latitude', point: 2 });
    expect(err('geoshape', '0 0;0 1;0 0')).toEqual({ code: 'too_few_shape' });
    const [key, params] = geoMessage({ code: 'latitude', point: 2 });
    expect(en[key]).toContain('{n}');
    expect(params).toEqual({ n: 2 });
  });
});
