/**
 * End-of-life dates of distribution releases (the last day of security support, LTS included where the
 * project runs it). Dated data: update when releases are added. Sources: each project's release pages.
 */
export const EOL_TABLE_UPDATED = '2026-11-01';

const EOL: Record<string, Record<string, string>> = {
  debian: {
    '8': '2020-06-30',
    '9': '2022-06-30',
    '10': '2024-06-30',
    '11': '2026-08-31',
    '12': '2028-06-30',
    '13': '2030-06-30',
  },
  ubuntu: {
    '14.04': '2019-04-30',
    '16.04': '2021-04-30',
    '18.04': '2023-05-31',
    '20.04': '2025-05-31',
    '22.04': '2027-06-01',
    '23.10': '2024-07-11',
    '24.04': '2029-05-31',
    '24.10': '2025-07-10',
    '25.04': '2026-01-15',
    '25.10': '2026-07-09',
  },
  alpine: {
    '3.12': '2022-05-01',
    '3.13': '2022-11-01',
    '3.14': '2023-05-01',
    '3.15': '2023-11-01',
    '3.16': '2024-05-23',
    '3.17': '2024-11-22',
    '3.18': '2025-05-09',
    '3.19': '2025-11-01',
    '3.20': '2026-04-01',
    '3.21': '2026-11-01',
    '3.22': '2027-05-01',
    '3.23': '2027-11-01',
  },
  centos: { '6': '2020-11-30', '7': '2024-06-30', '8': '2021-12-31' },
  rhel: { '6': '2020-11-30', '7': '2024-06-30', '8': '2029-05-31', '9': '2032-05-31' },
  rocky: { '8': '2029-05-31', '9': '2032-05-31' },
  almalinux: { '8': '2029-03-01', '9': '2032-05-31' },
  amzn: { '2': '2026-06-30', '2023': '2029-06-30' },
};

/** The version key the table uses for a family: major for Debian/RHEL-likes, major.minor for Ubuntu/Alpine. */
function key(family: string, version: string): string {
  const parts = version.split('.');
  return family === 'ubuntu' || family === 'alpine' ? parts.slice(0, 2).join('.') : (parts[0] ?? version);
}

/** The end-of-life date of a release, or undefined when the table does not know the release. */
export function endOfLife(family: string, version: string): string | undefined {
  return EOL[family]?.[key(family, version)];
}
