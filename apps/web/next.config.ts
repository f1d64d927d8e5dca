import type { NextConfig } from 'next';

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Only types come from @suanli/contracts today; listed so value imports also compile.
  transpilePackages: [
    '@suanli/contracts',
    '@suanli/api-client',
    '@suanli/crypto',
    '@suanli/transparency',
  ],
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
          // Same-origin requests keep the full referrer: /lang/<code> uses it to go back.
          { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
        ],
      },
    ];
  },
};

export default config;
