// The browser engines the cross-engine tests run, behind one small interface so that each
// test is written once: launchEngine(name) gives an engine whose openTab() is a fresh,
// empty profile (no storage shared with any earlier tab) holding one page (tab.mjs).
//
//   firefox   Firefox (ESR 153 from Debian) through WebDriver BiDi, driven by puppeteer-core:
//             no geckodriver, nothing downloaded.
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver (classic WebDriver), driven
//             by selenium-webdriver, in a virtual X display (Xvfb). A driver holds one
//             session at a time, and each session is a new ephemeral profile.
// (Chromium is tested by tests/e2e, with Playwright: the Chromium cases of these tests
// are there too.)
import fs from "node:fs";
import puppeteer from "puppeteer-core";
import { Builder } from "selenium-webdriver";
import remote from "selenium-webdriver/remote/index.js";
import { virtualDisplay, XVFB } from "./display.mjs";
import { PuppeteerTab, RECORDER, WebKitTab, within } from "./tab.mjs";

// Where each program is: the path in its environment variable when that is set (and only
// there), else the first of the Debian packages' paths that exists.
const find = (variable, ...paths) =>
  (process.env[variable] ? [process.env[variable]] : paths).find((p) => fs.existsSync(p));

export const PATHS = {
  firefox: () => find("FIREFOX_PATH", "/usr/bin/firefox-esr", "/usr/bin/firefox"),
  webkitDriver: () => find("WEBKIT_DRIVER_PATH", "/usr/bin/WebKitWebDriver"),
  miniBrowser: () =>
    find(
      "MINIBROWSER_PATH",
      "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
      "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
    ),
};

// What is missing to run `name` here, in words, or "" when nothing is.
export function missing(name) {
  const need = {
    firefox: [["Firefox (Debian package firefox-esr; or set FIREFOX_PATH)", PATHS.firefox()]],
    webkit: [
      ["WebKitWebDriver (Debian package webkit2gtk-driver)", PATHS.webkitDriver()],
      ["MiniBrowser (Debian package libwebkit2gtk-4.1-0)", PATHS.miniBrowser()],
      ["Xvfb (Debian package xvfb)", fs.existsSync(XVFB) && XVFB],
    ],
  }[name];
  return need.filter(([, found]) => !found).map(([what]) => what).join(", ");
}

// The browsers' language: en_US everywhere unless a test asks for another (the locale test).
function environment(lang) {
  const env = { ...process.env, LANG: lang };
  for (const key of Object.keys(env)) if (key === "LANGUAGE" || key.startsWith("LC_")) delete env[key];
  return env;
}

export async function launchEngine(name, { lang = "en_US.UTF-8" } = {}) {
  const why = missing(name);
  if (why) throw new Error(`${name} cannot run here: missing ${why}`);
  if (name === "webkit") return within(120, "starting WebKitWebDriver", WebKitEngine.launch(lang));
  const launching = puppeteer.launch({
    browser: "firefox",
    executablePath: PATHS.firefox(),
    headless: true,
    env: environment(lang),
    protocolTimeout: 300_000,
  });
  const browser = await within(120, `starting ${name}`, launching);
  return new PuppeteerEngine(name, browser);
}

class PuppeteerEngine {
  constructor(name, browser) {
    this.name = name;
    this.browser = browser;
  }

  async version() {
    return this.browser.version();
  }

  openTab(size = {}) {
    return within(120, "a new tab", this.newTab(size));
  }

  async newTab({ width = 1200, height = 900 }) {
    const context = await this.browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width, height });
    await page.evaluateOnNewDocument(RECORDER);
    const tab = new PuppeteerTab(page, context);
    page.on("request", (request) => tab.sawRequest(request.url()));
    return tab;
  }

  async close() {
    await this.browser.close();
  }
}

class WebKitEngine {
  static async launch(lang) {
    const display = await virtualDisplay();
    const service = new remote.DriverService.Builder(PATHS.webkitDriver())
      .setLoopback(true)
      // It holds one session at a time: a session whose start was given up on (below)
      // must not block the next one.
      .addArguments("--replace-on-new-session")
      // WebKitGTK composites its pages as on a machine without graphics acceleration (as
      // this virtual display is): in software, drawn once, instead of through GL layers
      // emulated on the processor. The same engine, its scripts and layout: the core path
      // took 34 s of processor instead of 48 (README, "How long it all takes").
      .setEnvironment({ ...environment(lang), DISPLAY: display, WEBKIT_DISABLE_COMPOSITING_MODE: "1" })
      .build();
    const address = await service.start();
    return new WebKitEngine(service, address);
  }

  constructor(service, address) {
    this.name = "webkit";
    this.service = service;
    this.address = address;
    this.lastVersion = "";
  }

  async version() {
    return `WebKitGTK ${this.lastVersion || "(no session yet)"}`;
  }

  // A new session starts a new MiniBrowser in under 2 s. One that could not reach the
  // display never answered (Xvfb resetting: display.mjs now prevents that); should a start
  // hang again, the next try starts at once.
  async openTab(size = {}) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await within(30, "a new WebKit session", this.newTab(size));
      } catch (error) {
        if (attempt === 3) throw error;
        console.log(`webkit: ${error.message}; trying again`);
      }
    }
  }

  async newTab({ width = 1200, height = 900 }) {
    const driver = await new Builder()
      .usingServer(this.address)
      .withCapabilities({
        browserName: "MiniBrowser",
        // --automation: without it the driver cannot match the capabilities.
        "webkitgtk:browserOptions": { binary: PATHS.miniBrowser(), args: ["--automation"] },
      })
      .build();
    this.lastVersion = (await driver.getCapabilities()).get("browserVersion");
    const tab = new WebKitTab(driver);
    // The window, not the viewport: MiniBrowser's toolbar takes some of the height.
    await driver.manage().window().setRect({ width, height: height + 80 });
    return tab;
  }

  async close() {
    await this.service.kill();
  }
}
