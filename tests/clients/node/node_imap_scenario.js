// The library scenario (see clientlib.py) with node-imap ("imap" on npm).
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const Imap = require('imap');

const [host, port, ca, user, password, draft] = process.argv.slice(2);
const imap = new Imap({
    user, password, host, port: Number(port), tls: true,
    tlsOptions: { ca: fs.readFileSync(ca), servername: host },
});
const p = (fn, ...args) => new Promise((res, rej) => fn.call(imap, ...args, (e, r) => (e ? rej(e) : res(r))));

function fetchAll(source, opts) {
    return new Promise((resolve, reject) => {
        const msgs = [];
        const f = imap.fetch(source, opts);
        f.on('message', (msg) => {
            const m = { bodies: {} };
            msg.on('body', (stream, info) => {
                const chunks = [];
                stream.on('data', (c) => chunks.push(c));
                stream.once('end', () => { m.bodies[info.which] = Buffer.concat(chunks); });
            });
            msg.once('attributes', (a) => { m.attrs = a; });
            msgs.push(m);
        });
        f.once('error', reject);
        f.once('end', () => setTimeout(() => resolve(msgs), 10));
    });
}

function flatten(boxes, prefix, out) {
    for (const [name, b] of Object.entries(boxes)) {
        const full = prefix + name;
        out.push(full);
        if (b.children) flatten(b.children, full + b.delimiter, out);
    }
    return out;
}

imap.once('ready', async () => {
    try {
        const out = {};
        out.folders = flatten(await p(imap.getBoxes, ''), '', []);
        await p(imap.openBox, 'INBOX', false);
        out.unseen = await p(imap.search, ['UNSEEN']);
        const uidOf = async (id) => {
            const r = await p(imap.search, [['HEADER', 'MESSAGE-ID', `<${id}@seed.petrel.test>`]]);
            if (r.length !== 1) throw new Error(`search ${id}: ${JSON.stringify(r)}`);
            return r[0];
        };
        const [m04] = await fetchAll(await uidOf('m04-rfc2047'), { bodies: 'HEADER.FIELDS (SUBJECT)' });
        out.subject = Imap.parseHeader(m04.bodies['HEADER.FIELDS (SUBJECT)'].toString('binary')).subject[0];
        const [m03] = await fetchAll(await uidOf('m03-attachments'), { bodies: ['2'], struct: true });
        out.pdf_sha256 = crypto.createHash('sha256')
            .update(Buffer.from(m03.bodies['2'].toString(), 'base64')).digest('hex');
        out.m03_flags = m03.attrs.flags;
        const [big] = await fetchAll(await uidOf('m06-big'), { bodies: '' });
        out.big_size = big.bodies[''].length;

        await p(imap.addFlags, await uidOf('m01-plain'), '\\Flagged');
        await p(imap.copy, await uidOf('m02-alternative'), 'Archive');
        await p(imap.move, await uidOf('m07-lunch'), 'Projects/Alpha');
        await p(imap.addFlags, await uidOf('m08-reply'), '\\Deleted');
        await p(imap.expunge);
        await p(imap.append, fs.readFileSync(draft), { mailbox: 'Entwürfe', flags: ['\\Draft'] });
        await p(imap.addBox, 'Library/A');
        await p(imap.renameBox, 'Library/A', 'Library/B');
        await p(imap.delBox, 'Projects/Alpha/Archiv 2025');
        console.log(JSON.stringify(out));
        imap.end();
    } catch (e) {
        console.error(e);
        process.exit(1);
    }
});
imap.once('error', (e) => { console.error(e); process.exit(1); });
imap.connect();
