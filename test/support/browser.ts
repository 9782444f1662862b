// Headless Debian Chromium for the browser tests, driven by playwright-core (which never downloads
// a browser). scripts/chromium.sh installs it; HALA_CHROMIUM names another binary.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

function chromiumPath(): string {
  if (process.env.HALA_CHROMIUM) return process.env.HALA_CHROMIUM;
  return execFileSync('bash', [path.join(__dirname, '../../scripts/chromium.sh')], { encoding: 'utf8' }).trim();
}

/** A headless browser; close it in afterAll. `--no-sandbox`: CI runs as root, where Chromium's sandbox refuses to start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}
