// The library scenario (see clientlib.py) with ImapFlow, plus IDLE: while
// one connection idles on INBOX, a second one appends, and the first must be
// told (EXISTS) without asking.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { ImapFlow } = require('imapflow');

const [host, port, ca, user, pass, draft] = process.argv.slice(2);
const opts = () => ({
    host, port: Number(port), secure: true, auth: { user, pass },
    tls: { ca: fs.readFileSync(ca), servername: host }, logger: false,
});

async function streamToBuffer(stream) {
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return Buffer.concat(chunks);
}

async function main() {
    const client = new ImapFlow(opts());
    await client.connect();
    const folders = (await client.list()).map((m) => m.path);
    let lock = await client.getMailboxLock('INBOX');
    const out = { folders };
    try {
        out.unseen = await client.search({ seen: false }, { uid: true });
        const uidOf = async (id) => {
            const r = await client.search({ header: { 'message-id': `<${id}@seed.petrel.test>` } }, { uid: true });
            if (r.length !== 1) throw new Error(`search ${id}: ${JSON.stringify(r)}`);
            return r[0];
        };
        const m04 = await client.fetchOne(await uidOf('m04-rfc2047'), { envelope: true }, { uid: true });
        out.subject = m04.envelope.subject;
        const m03uid = await uidOf('m03-attachments');
        const m03 = await client.fetchOne(m03uid, { flags: true, bodyStructure: true }, { uid: true });
        if (m03.bodyStructure.childNodes[1].type !== 'application/pdf') throw new Error('part 2 is not the PDF');
        out.m03_flags = [...m03.flags];
        const { content } = await client.download(m03uid, '2', { uid: true });
        out.pdf_sha256 = crypto.createHash('sha256').update(await streamToBuffer(content)).digest('hex');
        const big = await client.fetchOne(await uidOf('m06-big'), { source: true }, { uid: true });
        out.big_size = big.source.length;

        await client.messageFlagsAdd(await uidOf('m01-plain'), ['\\Flagged'], { uid: true });
        await client.messageCopy(await uidOf('m02-alternative'), 'Archive', { uid: true });
        await client.messageMove(await uidOf('m07-lunch'), 'Projects/Alpha', { uid: true });
        await client.messageDelete(await uidOf('m08-reply'), { uid: true });
    } finally {
        lock.release();
    }
    await client.append('Entwürfe', fs.readFileSync(draft), ['\\Draft']);
    await client.mailboxCreate('Library/A');
    await client.mailboxRename('Library/A', 'Library/B');
    await client.mailboxDelete('Projects/Alpha/Archiv 2025');

    // IDLE: be told of a message another connection appends.
    await client.mailboxOpen('INBOX');
    const before = client.mailbox.exists;
    const told = new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no EXISTS while idling')), 20000);
        client.on('exists', (d) => { clearTimeout(t); resolve(d.count); });
    });
    const idling = client.idle();
    await new Promise((r) => setTimeout(r, 500));
    const other = new ImapFlow(opts());
    await other.connect();
    await other.append('INBOX', 'From: x@example.org\r\nSubject: during IDLE\r\nMessage-ID: <idle-new@seed.petrel.test>\r\n\r\nhi\r\n');
    await other.logout();
    out.idle_exists = (await told) - before;
    await client.logout();
    await idling.catch(() => {});
    console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
