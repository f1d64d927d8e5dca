import type { NextConfig } from 'next';

const dev = process.env.NODE_ENV !== 'production';
// Served over https (WEB_PUBLIC_URL, or secure cookies on): browsers must keep to https.
const https =
  (process.env.WEB_PUBLIC_URL ?? '').startsWith('https:') || process.env.WEB_SECURE_COOKIES === '1';

/**
 * The storefront renders on the server and never calls the API from the browser, so the page
 * may only load its own assets. Next.js's inline bootstrap scripts need 'unsafe-inline' (and
 * its dev server 'unsafe-eval' and websockets); forms may post to Stripe's https checkout.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  `connect-src 'self'${dev ? ' ws: wss:' : ''}`,
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self' https:",
  "frame-ancestors 'none'",
].join('; ');

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // prom-client (lib/metrics.ts) is required from node_modules at run time, not bundled.
  serverExternalPackages: ['prom-client'],
  // The workspace libraries are compiled from their TypeScript sources (the proof check and the
  // assessor form's signer use @suanli/transparency and @suanli/crypto, no forks).
  transpilePackages: [
    '@suanli/contracts',
    '@suanli/api-client',
    '@suanli/crypto',
    '@suanli/transparency',
  ],
  // The libraries import NodeNext style (`./x.js` for `x.ts`); webpack maps that back, which
  // Turbopack cannot yet (vercel/next.js#82945), so builds run with `next build --webpack`.
  webpack: (webpackConfig: { resolve: { extensionAlias?: Record<string, string[]> } }) => {
    webpackConfig.resolve.extensionAlias = { '.js': ['.ts', '.tsx', '.js'] };
    return webpackConfig;
  },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'Content-Security-Policy', value: contentSecurityPolicy },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
          // Same-origin requests keep the full referrer: /lang/<code> uses it to go back.
          { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
          { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
          { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
          ...(https
            ? [{ key: 'Strict-Transport-Security', value: 'max-age=31536000; includeSubDomains' }]
            : []),
        ],
      },
    ];
  },
};

export default config;
