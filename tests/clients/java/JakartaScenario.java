// The library scenario (see tests/clients/clientlib.py) with Jakarta Mail
// (Debian's libjakarta-mail-java) over IMAPS, the certificate verified through
// a trust store that test_jakarta_mail.py makes with keytool.
import jakarta.mail.*;
import jakarta.mail.internet.*;
import jakarta.mail.search.*;
import com.sun.mail.imap.IMAPFolder;
import java.io.*;
import java.nio.file.*;
import java.security.MessageDigest;
import java.util.*;

public class JakartaScenario {
    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String list(Collection<String> xs) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (String x : xs) j.add(q(x));
        return j.toString();
    }

    static Message byId(Folder f, String id) throws MessagingException {
        Message[] r = f.search(new MessageIDTerm("<" + id + "@seed.petrel.test>"));
        if (r.length != 1) throw new RuntimeException("search " + id + ": " + r.length);
        return r[0];
    }

    public static void main(String[] a) throws Exception {
        String host = a[0], user = a[3], pass = a[4], draft = a[5];
        int port = Integer.parseInt(a[1]);
        Properties p = new Properties();
        p.put("mail.imaps.ssl.checkserveridentity", "true");
        p.put("mail.imaps.peek", "true");
        Session session = Session.getInstance(p);
        Store store = session.getStore("imaps");
        store.connect(host, port, user, pass);

        List<String> folders = new ArrayList<>();
        for (Folder f : store.getDefaultFolder().list("*")) folders.add(f.getFullName());

        Folder inbox = store.getFolder("INBOX");
        inbox.open(Folder.READ_WRITE);
        UIDFolder uf = (UIDFolder) inbox;
        List<String> unseen = new ArrayList<>();
        for (Message m : inbox.search(new FlagTerm(new Flags(Flags.Flag.SEEN), false)))
            unseen.add(Long.toString(uf.getUID(m)));

        String subject = byId(inbox, "m04-rfc2047").getSubject();

        Message m03 = byId(inbox, "m03-attachments");
        MimeMultipart mp = (MimeMultipart) m03.getContent();
        BodyPart pdfPart = mp.getBodyPart(1);
        if (!pdfPart.isMimeType("application/pdf")) throw new RuntimeException("part 2: " + pdfPart.getContentType());
        byte[] pdf = pdfPart.getInputStream().readAllBytes();
        byte[] sum = MessageDigest.getInstance("SHA-256").digest(pdf);
        StringBuilder hex = new StringBuilder();
        for (byte b : sum) hex.append(String.format("%02x", b));
        List<String> m03flags = new ArrayList<>();
        Flags fl = m03.getFlags();
        if (fl.contains(Flags.Flag.SEEN)) m03flags.add("\\Seen");
        if (fl.contains(Flags.Flag.FLAGGED)) m03flags.add("\\Flagged");

        ByteArrayOutputStream big = new ByteArrayOutputStream();
        byId(inbox, "m06-big").writeTo(big);

        byId(inbox, "m01-plain").setFlag(Flags.Flag.FLAGGED, true);
        inbox.copyMessages(new Message[] { byId(inbox, "m02-alternative") }, store.getFolder("Archive"));
        ((IMAPFolder) inbox).moveMessages(new Message[] { byId(inbox, "m07-lunch") },
                                          store.getFolder("Projects/Alpha"));
        byId(inbox, "m08-reply").setFlag(Flags.Flag.DELETED, true);
        inbox.expunge();
        inbox.close(false);

        MimeMessage dm = new MimeMessage(session, new FileInputStream(draft));
        dm.setFlag(Flags.Flag.DRAFT, true);
        store.getFolder("Entwürfe").appendMessages(new Message[] { dm });
        Folder fa = store.getFolder("Library/A");
        if (!fa.create(Folder.HOLDS_MESSAGES)) throw new RuntimeException("create");
        if (!fa.renameTo(store.getFolder("Library/B"))) throw new RuntimeException("rename");
        if (!store.getFolder("Projects/Alpha/Archiv 2025").delete(true)) throw new RuntimeException("delete");
        store.close();

        System.out.println("{\"folders\":" + list(folders) + ",\"unseen\":[" + String.join(",", unseen) + "]"
            + ",\"subject\":" + q(subject) + ",\"pdf_sha256\":" + q(hex.toString())
            + ",\"big_size\":" + big.size() + ",\"m03_flags\":" + list(m03flags) + "}");
    }
}
