// The customer app in real Chromium (Debian's, driven by playwright-core) against a running
// stack: tests/webapp/test_e2e.py starts gunicorn and a worker, then runs this with
// E2E_BASE_URL, E2E_MAIL_DIR (the e-mails as files), E2E_PASSWORD (the seeded Dana's),
// E2E_PHOTO (an image to upload) and E2E_ARTIFACTS (screenshots of a failed step);
// E2E_SCREENSHOTS=dir keeps every screen after every step.
import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const BASE = process.env.E2E_BASE_URL ?? "http://127.0.0.1:8000";
const MAIL_DIR = process.env.E2E_MAIL_DIR;
const PASSWORD = process.env.E2E_PASSWORD;
const ARTIFACTS = process.env.E2E_ARTIFACTS ?? new URL("./artifacts", import.meta.url).pathname;
const NINA = "nina@example.test";
const NINA_PASSWORD = "nina-sends-money-42";
const TIMEOUT = 20_000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const pages = {};

async function person(name, viewport = { width: 360, height: 740 }) {
  const context = await browser.newContext({ viewport, locale: "en-US", timezoneId: "UTC", acceptDownloads: true });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`[${name}] page error: ${e.message}`));
  pages[name] = page;
  return page;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

let failed = false;
async function step(title, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${title} (${Date.now() - started} ms)`);
    if (process.env.E2E_SCREENSHOTS) {
      // Every screen after each step, for looking at the layouts (not a check).
      mkdirSync(process.env.E2E_SCREENSHOTS, { recursive: true });
      for (const [name, page] of Object.entries(pages)) {
        const file = join(process.env.E2E_SCREENSHOTS, `${title.replace(/\W+/g, "-")}-${name}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      }
    }
  } catch (error) {
    failed = true;
    console.log(`FAIL ${title}: ${error.stack ?? error}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [name, page] of Object.entries(pages)) {
      const file = join(ARTIFACTS, `${title.replace(/\W+/g, "-")}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`     screenshot: ${file} (${page.url()})`);
    }
    throw error;
  }
}

/** The newest six-digit code e-mailed to this address (the file backend's messages). */
async function mailedCode(address) {
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    const files = readdirSync(MAIL_DIR).sort().reverse();
    for (const file of files) {
      const text = readFileSync(join(MAIL_DIR, file), "utf8");
      for (const message of text.split(/^-{79}$/m).reverse()) {
        const [headers, ...rest] = message.split(/\r?\n\r?\n/);
        if (!headers.includes(address)) continue;
        const body = rest.join("\n").replace(/=\r?\n/g, "");
        const found = body.match(/^\s*(\d{6})\s*$/m);
        if (found) return found[1];
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no code mailed to ${address}`);
}

function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const hmac = createHmac("sha1", key).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0xf;
  return String((hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** axe-core in the page: no serious or critical violation. */
async function accessible(page, label) {
  await page.addScriptTag({ content: readFileSync(require.resolve("axe-core/axe.min.js"), "utf8") });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(!bad.length, `${label}: ${bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target).join(", ")})`).join("; ")}`);
}

async function logIn(page, email, password) {
  await page.goto(`${BASE}/app/login`);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function send(page, to, amount) {
  await page.goto(`${BASE}/app/send`);
  await page.getByLabel("To (e-mail or phone)").fill(to);
  await page.getByLabel(/^Amount/).fill(amount);
  await page.getByRole("button", { name: "Continue" }).click();
}

try {
  const dana = await person("dana");
  const nina = await person("nina");

  await step("dana logs in", async () => {
    await page0(dana);
    await logIn(dana, "dana@example.test", PASSWORD);
    await dana.getByRole("heading", { name: "Your wallets" }).waitFor();
    await dana.getByText("€1,000.00").first().waitFor();
    await accessible(dana, "wallets");
  });

  await step("dana's history loads more as she scrolls", async () => {
    await dana.getByRole("link", { name: /EUR wallet/ }).click();
    const rows = dana.getByRole("list", { name: "Transactions" }).getByRole("listitem");
    await rows.nth(24).waitFor();
    assert((await rows.count()) === 25, "one page of 25 first");
    await rows.nth(24).scrollIntoViewIfNeeded();
    await rows.nth(39).waitFor();
    await dana.getByLabel("Show").selectOption("deposit");
    await dana.getByText("No transactions yet.").waitFor(); // the filter reaches the API
    await dana.goto(`${BASE}/app/`);
  });

  await step("nina signs up with the e-mailed code", async () => {
    await nina.goto(`${BASE}/app/signup`);
    await accessible(nina, "sign-up");
    await nina.getByLabel("E-mail").fill(NINA);
    await nina.getByLabel("Password").fill(NINA_PASSWORD);
    await nina.getByRole("button", { name: "Create account" }).click();
    await nina.getByRole("heading", { name: "Check your e-mail" }).waitFor();
    await nina.getByLabel("Code").fill(await mailedCode(NINA));
    await nina.getByRole("button", { name: "Confirm" }).click();
    await nina.getByRole("heading", { name: "Your wallets" }).waitFor();
    await nina.getByText("€0.00").first().waitFor(); // the default wallet, made by the worker
  });

  await step("dana sends 25.00 after seeing nina's name", async () => {
    await send(dana, NINA, "25");
    assert((await dana.getByTestId("recipient-name").textContent()) === "nina", "recipient name");
    await accessible(dana, "send confirmation");
    await dana.getByRole("button", { name: "Send" }).click();
    await dana.getByText("You sent €25.00 to nina.").waitFor();
  });

  await step("nina sees the money and its history", async () => {
    await nina.reload();
    await nina.getByText("€25.00").first().waitFor();
    await nina.getByRole("link", { name: /EUR wallet/ }).click();
    await nina.getByRole("list", { name: "Transactions" }).getByText("Dana Demo").waitFor();
    await nina.getByText("+€25.00").waitFor();
  });

  await step("nina sends 10,50 back", async () => {
    await send(nina, "dana@example.test", "10,50");
    assert((await nina.getByTestId("recipient-name").textContent()) === "Dana Demo", "recipient name");
    await nina.getByRole("button", { name: "Send" }).click();
    await nina.getByText("You sent €10.50 to Dana Demo.").waitFor();
  });

  await step("a transfer above the balance is refused in words", async () => {
    await send(nina, "dana@example.test", "20");
    await nina.getByRole("button", { name: "Send" }).click();
    await nina.getByRole("alert").getByText("You do not have enough money available for this.").waitFor();
  });

  await step("a double tap and a retry after a lost answer send once", async () => {
    const keys = [];
    nina.on("request", (r) => {
      if (r.url().endsWith("/api/v1/transfers") && r.method() === "POST") keys.push(r.headers()["idempotency-key"]);
    });
    let lost = false;
    await nina.route("**/api/v1/transfers", async (route) => {
      if (lost) return route.continue();
      lost = true;
      await route.fetch(); // the server books it; the answer never arrives
      await route.abort("connectionreset");
    });
    await send(nina, "dana@example.test", "1.00");
    await nina.getByRole("button", { name: "Send" }).dblclick();
    await nina.getByRole("alert").getByText(/Your payment will not be sent twice/).waitFor();
    await nina.getByRole("button", { name: "Try again" }).click();
    await nina.getByText("You sent €1.00 to Dana Demo.").waitFor();
    await nina.unroute("**/api/v1/transfers");
    assert(keys.length >= 2 && new Set(keys).size === 1, `one key per attempt, got ${JSON.stringify(keys)}`);
    await nina.goto(`${BASE}/app/`);
    await nina.getByText("€13.50").first().waitFor();
  });

  await step("nina uploads a passport photo", async () => {
    await nina.goto(`${BASE}/app/kyc`);
    await nina.getByLabel("Document").selectOption("passport");
    await nina.getByLabel("Photo or PDF").setInputFiles(process.env.E2E_PHOTO);
    await nina.getByRole("button", { name: "Upload" }).click();
    await nina.getByText("Document uploaded.").waitFor();
    await nina.getByRole("list", { name: "Uploaded documents" }).getByText("passport · pending").waitFor();
  });

  await step("dana downloads this month's statement", async () => {
    await dana.goto(`${BASE}/app/statements`);
    const [download] = await Promise.all([
      dana.waitForEvent("download"),
      dana.getByRole("button", { name: "Download PDF" }).click(),
    ]);
    assert(download.suggestedFilename().endsWith(".pdf"), download.suggestedFilename());
    const file = await download.path();
    assert(readFileSync(file).subarray(0, 4).toString() === "%PDF", "a PDF");
  });

  await step("linking a bank account asks for two-factor first", async () => {
    await nina.goto(`${BASE}/app/bank`);
    await nina.getByLabel("IBAN").fill("DE89370400440532013000");
    await nina.getByLabel("Account holder").fill("Nina Example");
    await nina.getByRole("button", { name: "Link account" }).click();
    await nina.getByRole("alert").getByText("Turn on two-factor authentication to do this.").waitFor();
    await nina.getByRole("link", { name: "Set it up now" }).waitFor();
  });

  await step("nina turns on TOTP and logs in with a recovery code", async () => {
    await nina.goto(`${BASE}/app/security`);
    const secret = (await nina.getByTestId("totp-secret").textContent()).trim();
    await nina.getByLabel("Code from the app").fill(totp(secret));
    const qr = nina.getByRole("img", { name: "QR code for your authenticator app" });
    await qr.waitFor();
    assert(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), "the QR code loads");
    await nina.getByRole("button", { name: "Turn on" }).click();
    // Adding an authenticator wants a recent password: the app asks, then carries on.
    const reauth = nina.getByText("For your security, enter your password again to continue.");
    const on = nina.getByText("Two-factor authentication is on.");
    await reauth.or(on).first().waitFor();
    if (await reauth.isVisible()) {
      await nina.getByLabel("Password").fill(NINA_PASSWORD);
      await nina.getByRole("button", { name: "Confirm it's me" }).click();
    }
    await on.waitFor();
    const recovery = (await nina.getByRole("list", { name: "Recovery codes" }).locator("li").first().textContent()).trim();
    await nina.getByRole("button", { name: "Log out" }).first().click();
    await nina.getByRole("heading", { name: "Log in" }).waitFor();
    await logIn(nina, NINA, NINA_PASSWORD);
    await nina.getByRole("heading", { name: "Two-factor authentication" }).waitFor();
    await nina.getByLabel("Authentication code").fill(recovery);
    await nina.getByRole("button", { name: "Continue" }).click();
    await nina.getByRole("heading", { name: "Your wallets" }).waitFor();
  });

  await step("with two-factor on, nina links her bank and adds money", async () => {
    await nina.goto(`${BASE}/app/bank`);
    await nina.getByLabel("IBAN").fill("DE89370400440532013000");
    await nina.getByLabel("Account holder").fill("Nina Example");
    await nina.getByRole("button", { name: "Link account" }).click();
    await nina.getByText("Bank account linked.").waitFor();
    await nina.getByLabel("Bank account").selectOption({ label: "Nina Example · ••3000" });
    await nina.getByLabel(/^Amount/).fill("5");
    await nina.getByRole("button", { name: "Continue" }).click();
    await nina.getByText(/^Deposit of €5\.00: /).waitFor();
  });

  await step("nina reads her inbox and sees where she is logged in", async () => {
    await nina.goto(`${BASE}/app/notifications`);
    const unread = nina.getByRole("link", { name: /Inbox \d+ unread/ });
    await unread.waitFor();
    await nina.getByRole("list", { name: "Notifications" }).getByRole("listitem").first().waitFor();
    await accessible(nina, "inbox");
    await nina.getByRole("button", { name: "Mark all as read" }).click();
    await nina.getByRole("link", { name: "Inbox", exact: true }).waitFor();
    await nina.goto(`${BASE}/app/security`);
    await nina.getByTestId("totp-on").waitFor();
    await nina.getByRole("list", { name: "Sessions" }).getByText(/\(this device\)/).waitFor();
  });

  await step("the wallets screen works on a desktop window", async () => {
    const desk = await person("desktop", { width: 1280, height: 800 });
    await logIn(desk, "dana@example.test", PASSWORD);
    await desk.getByRole("heading", { name: "Your wallets" }).waitFor();
    await accessible(desk, "wallets (desktop)");
  });
  console.log("passed");
} catch {
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

async function page0(page) {
  await page.goto(`${BASE}/app/login`);
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await accessible(page, "login");
}
