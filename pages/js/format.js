// format.js — numbers, durations and dates as people read them.

const numberFmt = new Intl.NumberFormat('en');

export function num(n) {
  return n === null || n === undefined ? '–' : numberFmt.format(Number(n));
}

/** A 0–100 figure from the API as "42 %" (one decimal when it has one). */
export function pct(n) {
  if (n === null || n === undefined) return '–';
  const v = Number(n);
  return `${Number.isInteger(v) ? v : v.toFixed(1)} %`;
}

/** A 0–1 ratio as a percentage. */
export function ratio(r) {
  return r === null || r === undefined ? '–' : `${(Number(r) * 100).toFixed(2)} %`;
}

/** Seconds as m:ss or h:mm:ss. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds as "6 min" / "1 h 5 min". */
export function duration(seconds) {
  const m = Math.round((Number(seconds) || 0) / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function ms(v) {
  return v === null || v === undefined ? '–' : `${Number(v) < 10 ? Number(v).toFixed(2) : Number(v).toFixed(1)} ms`;
}

const dateFmt = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

export function dateTime(iso) {
  return iso ? dateFmt.format(new Date(iso)) : '–';
}

/** "12 s ago", "3 min ago", "2 h ago", else the date. */
export function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return dateTime(iso);
}
