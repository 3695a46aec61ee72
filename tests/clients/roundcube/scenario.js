// Roundcube in headless Chromium, driven as a person uses it: log in, look at
// INBOX, open a folder, read two messages with attachments and download one
// attachment of each, search with the quick search box, move a message to a
// folder through "More > Move to...", delete a message, look at the move's
// target folder and at Trash, log out. Run by tests/clients/test_roundcube.py, which then checks
// the result over IMAP on a connection of its own.
//
//   node scenario.js URL USER PASSWORD ARTIFACT_DIR
//
// Every step waits for what the page must show (a row, a count, a frame's
// heading), never for a fixed time. Prints one JSON object with what the
// browser showed as its last line of output; on failure it leaves
// failure.png and failure.html (page and preview frame) in ARTIFACT_DIR.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, user, password, artifacts] = process.argv.slice(2);
// Generous: the suite runs on a loaded 2-core machine, and a slow step is not
// a failure.
const STEP_TIMEOUT_MS = 90000;

// A row Roundcube has taken out of the list (moved, deleted) stays in the
// table, hidden, until the list is next drawn: only visible rows count.
const ROWS = '#messagelist tbody tr:visible';
const SUBJECTS = `${ROWS} td.subject span.subject a`;

function row(page, subject) {
    return page.locator(ROWS).filter({ hasText: subject });
}

async function listSubjects(page) {
    return (await page.locator(SUBJECTS).allInnerTexts()).map((s) => s.trim());
}

// Waits until the message list holds exactly `count` rows (the list of a new
// folder or search replaces the old one whole) and the pager agrees.
async function waitForRowCount(page, count) {
    await page.waitForFunction((n) => {
        const shown = [...document.querySelectorAll('#messagelist tbody tr')]
            .filter((tr) => tr.style.display !== 'none').length;
        const pager = document.querySelector('#rcmcountdisplay');
        return shown === n && pager && new RegExp(`of ${n}$`).test(pager.textContent.trim());
    }, count, { timeout: STEP_TIMEOUT_MS });
}

// Clicks a folder in the folder list by the name the user sees (an unread
// count may follow it) and waits for one of its messages to be listed.
async function openFolder(page, label, oneSubject) {
    const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const name = new RegExp(`^${escaped}\\d*$`);
    await page.locator('#mailboxlist li.mailbox > a').filter({ hasText: name }).click();
    await page.locator('#mailboxlist li.mailbox.selected > a').filter({ hasText: name }).waitFor();
    await row(page, oneSubject).first().waitFor();
    const rows = await page.locator(ROWS).count();
    await waitForRowCount(page, rows);
    return listSubjects(page);
}

// Clicks a message in the list; its preview loads in #messagecontframe.
async function preview(page, subject) {
    await row(page, subject).click();
    const frame = page.frameLocator('#messagecontframe');
    await frame.locator('h2.subject', { hasText: subject }).waitFor();
    return frame;
}

// The attachment's own menu in the preview, "Download": what a user does to
// save an attachment. Returns the file's name and SHA-256.
async function downloadAttachment(page, frame, name) {
    const item = frame.locator('#attachment-list li').filter({ hasText: name });
    await item.locator('a.dropdown').click();
    const download = page.waitForEvent('download', { timeout: STEP_TIMEOUT_MS });
    await frame.locator('#attachmenudownload').click();
    const d = await download;
    const file = path.join(artifacts, 'download-' + d.suggestedFilename());
    await d.saveAs(file);
    const bytes = fs.readFileSync(file);
    return {
        name: d.suggestedFilename(), size: bytes.length,
        sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    };
}

async function readMessage(page, subject, download) {
    const frame = await preview(page, subject);
    await frame.locator('#attachment-list li').first().waitFor();
    const out = {
        subject: (await frame.locator('h2.subject').innerText()).replace(/^Subject:\s*/, '').trim(),
        attachments: (await frame.locator('#attachment-list .attachment-name').allInnerTexts())
            .map((s) => s.trim()),
        body: (await frame.locator('#messagebody').innerText()).trim(),
    };
    if (download) out.download = await downloadAttachment(page, frame, download);
    return out;
}

// The quick search box above the list, with Roundcube's default scope
// (subject and sender, this folder).
async function quickSearch(page, text, expectedCount) {
    const box = page.locator('#mailsearchform');
    await box.fill(text);
    await box.press('Enter');
    await waitForRowCount(page, expectedCount);
    return listSubjects(page);
}

async function resetSearch(page, expectedCount) {
    await page.locator('#layout-list .searchbar a.reset').click();
    await waitForRowCount(page, expectedCount);
}

// After a move or delete Roundcube selects the next message and shows it
// (display_next), which marks it read: wait until the preview shows the
// selected row, so that the next step cannot cut that short.
async function waitForNextPreview(page) {
    const selected = page.locator('#messagelist tbody tr.selected:visible');
    await selected.waitFor();
    const subject = (await selected.locator('td.subject span.subject a').innerText()).trim();
    await page.frameLocator('#messagecontframe')
        .locator('h2.subject', { hasText: subject }).waitFor();
    return subject;
}

async function moveTo(page, subject, folderLabel) {
    await preview(page, subject);
    await page.locator('#toolbar-menu a.more').click();
    await page.locator('#message-menu a.move').click();
    await page.locator('#folder-selector li a')
        .filter({ hasText: new RegExp(`^${folderLabel}$`) }).click();
    await row(page, subject).waitFor({ state: 'detached' });
    return waitForNextPreview(page);
}

async function deleteMessage(page, subject) {
    await preview(page, subject);
    await page.locator('#toolbar-menu a.delete').click();
    await row(page, subject).waitFor({ state: 'detached' });
    return waitForNextPreview(page);
}

async function scenario(page) {
    const out = {};
    await page.goto(url);
    await page.locator('#rcmloginuser').fill(user);
    await page.locator('#rcmloginpwd').fill(password);
    await page.locator('#rcmloginsubmit').click();
    // The form posts to ?_task=login; a good login is sent on to ?_task=mail,
    // a refused one stays with a message ("Login failed.", "Connection to
    // storage server failed."): fail at once then, with that message.
    await page.waitForURL(/[?&]_task=/);
    if (!/[?&]_task=mail/.test(page.url())) {
        const said = await page.locator('#messagestack').innerText().catch(() => '');
        throw new Error(`login refused at ${page.url()}: ${said.trim() || '(no message)'}`);
    }
    await page.locator(ROWS).first().waitFor();
    await waitForRowCount(page, await page.locator(ROWS).count());
    out.inbox = await listSubjects(page);
    out.folders = (await page.locator('#mailboxlist li.mailbox > a').evaluateAll(
        (as) => as.map((a) => a.getAttribute('rel'))));

    out.japanese = await openFolder(page, '日本語', '会議の議事録');
    out.inbox_again = await openFolder(page, 'Inbox', 'Lunch on Friday?');

    // An unread message with an RFC 2231 file name, then the invoice with two.
    out.read_m04 = await readMessage(page, 'Grüße aus Köln', 'Übersicht.txt');
    out.read_m03 = await readMessage(page, 'Rechnung 2026-11', 'rechnung.pdf');

    out.search_plain = await quickSearch(page, 'Plain hello', 3);
    out.search_koeln = await quickSearch(page, 'Köln', 1);
    await resetSearch(page, out.inbox.length);

    out.shown_after_move = await moveTo(page, 'Lunch on Friday?', 'Beta');
    await waitForRowCount(page, out.inbox.length - 1);
    out.shown_after_delete = await deleteMessage(page, 'Newsletter November');
    await waitForRowCount(page, out.inbox.length - 2);
    out.inbox_after = await listSubjects(page);

    out.beta = await openFolder(page, 'Beta', 'Lunch on Friday?');
    out.trash = await openFolder(page, 'Trash', 'Newsletter November');

    await page.locator('a.logout').click();
    await page.locator('#rcmloginuser').waitFor();
    out.logged_out = true;
    return out;
}

async function saveFailure(page) {
    try {
        await page.screenshot({ path: path.join(artifacts, 'failure.png') });
        let html = await page.content();
        const frame = page.frame({ name: 'messagecontframe' });
        if (frame) html += '\n<!-- #messagecontframe -->\n' + await frame.content();
        fs.writeFileSync(path.join(artifacts, 'failure.html'), html);
    } catch (e) {
        console.error('could not save the failure state:', e.message);
    }
}

async function main() {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
    const context = await browser.newContext({
        viewport: { width: 1400, height: 900 }, acceptDownloads: true, locale: 'en-US',
    });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    try {
        const out = await scenario(page);
        out.page_errors = problems;
        console.log(JSON.stringify(out));
    } catch (e) {
        await saveFailure(page);
        console.error(problems.join('\n'));
        throw e;
    } finally {
        await browser.close();
    }
}

main().catch((e) => { console.error(e); process.exit(1); });
