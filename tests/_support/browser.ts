/**
 * Headless Chromium for browser tests: Debian's `/usr/bin/chromium` driven by `playwright-core` (which
 * downloads no browser of its own). Needs `--allow-all`: at import, playwright-core probes
 * `/proc/sys/fs/binfmt_misc/WSLInterop`, which Deno 2.9 lets only `--allow-all` read (NotCapable otherwise,
 * even with plain `--allow-read`; `--deny-read` of that path does not help).
 *
 * Usage: `await using chrome = await launchChromium(); const page = await chrome.browser.newPage();`
 */
// Test-only: not in deno.json's import map, so `deno task start` never downloads it (see docs/development.md).
// deno-lint-ignore no-import-prefix
import { type Browser, chromium } from "npm:playwright-core@1.65.1";

/** Flags that keep a test browser quiet and offline apart from the pages it is sent to. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The Chromium binary: `$CHROMIUM_PATH`, else `which chromium`, else `/usr/bin/chromium`. */
export async function chromiumPath(): Promise<string> {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  if (fromEnv) return fromEnv;
  try {
    const { success, stdout } = await new Deno.Command("which", { args: ["chromium"], stdout: "piped" })
      .output();
    const path = new TextDecoder().decode(stdout).trim();
    if (success && path !== "") return path;
  } catch {
    // `which` missing: fall through to the Debian path.
  }
  return "/usr/bin/chromium";
}

export interface LaunchedChromium extends AsyncDisposable {
  readonly browser: Browser;
}

/**
 * Launches headless Chromium. Plain `launch` gives each browser a fresh profile in a temp dir of its own
 * (Playwright refuses an explicit `--user-data-dir` there) and deletes it on close.
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const browser = await chromium.launch({
    executablePath: await chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  return {
    browser,
    async [Symbol.asyncDispose]() {
      await browser.close();
    },
  };
}
