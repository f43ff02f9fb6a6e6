// Opens player.html in headless Chromium (Debian's, through playwright-core:
// no browser is downloaded) and samples the video element for a while.
//   node play.js PAGE_URL SECONDS
// Prints one JSON line: the samples (currentTime, decoded frames), hls.js's errors and the
// browser's console errors (a CORS refusal shows there).
"use strict";
const {chromium} = require("playwright-core");

async function main() {
	const [page_url, seconds] = [process.argv[2], Number(process.argv[3] || 8)];
	const profile = require("fs").mkdtempSync(require("path").join(require("os").tmpdir(),
	                                                               "peercdn-chromium-"));
	// As root, on a machine without the outer network: no sandbox, no GPU,
	// nothing fetched in the background.
	const browser = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		       "--disable-background-networking", "--disable-component-update",
		       "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
	});
	const out = {console: []};
	try {
		const page = await browser.newPage();
		page.on("console", m => { if (m.type() === "error") out.console.push(m.text()); });
		page.on("pageerror", e => out.console.push(String(e)));
		await page.goto(page_url, {timeout: 15000});
		// Samples every half second for SECONDS, or until hls.js gives up.
		const start = Date.now();
		out.samples = [];
		while (Date.now() - start < seconds * 1000) {
			await page.waitForTimeout(500);
			const s = await page.evaluate(() => window.sample());
			s.ms = Date.now() - start;
			out.samples.push(s);
			if ((await page.evaluate(() => window.report.fatal)) !== null)
				break;
		}
		out.report = await page.evaluate(() => window.report);
		out.userAgent = await page.evaluate(() => navigator.userAgent);
	} finally {
		await browser.close();
		require("fs").rmSync(profile, {recursive: true, force: true});
	}
	console.log(JSON.stringify(out));
}

main().catch(e => { console.error(String(e)); process.exit(1); });
