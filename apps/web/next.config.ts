import type { NextConfig } from 'next';

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Only types come from @suanli/contracts today; listed so value imports also compile.
  transpilePackages: ['@suanli/contracts'],
};

export default config;
