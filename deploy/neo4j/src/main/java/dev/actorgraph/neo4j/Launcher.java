package dev.actorgraph.neo4j;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs Neo4j Community on 127.0.0.1 with the Bolt connector and authentication on, for actorgraph.
 *
 * <p>Usage: {@code java -jar actorgraph-neo4j.jar DIR [PORT]}. DIR holds everything: the database
 * files ({@code DIR/data}), Neo4j's logs ({@code DIR/logs}), the generated password
 * ({@code DIR/password}, created once, owner-only), the pid file ({@code DIR/neo4j.pid}) and,
 * once Bolt answers, {@code DIR/neo4j.env} with NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD. PORT 0
 * (the default) lets the operating system pick a free port, so several checkouts can run one each.
 * SIGTERM shuts the database down cleanly (a JVM shutdown hook) and removes the pid and env files.
 */
public final class Launcher {
    private static final String USER = "neo4j";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: java -jar actorgraph-neo4j.jar DIR [PORT]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]).toAbsolutePath();
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        Files.createDirectories(dir);
        Path pidFile = dir.resolve("neo4j.pid");
        Path envFile = dir.resolve("neo4j.env");
        Files.deleteIfExists(envFile);
        writeAtomically(pidFile, ProcessHandle.current().pid() + "\n");
        String password = password(dir.resolve("password"));

        long started = System.nanoTime();
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(dir)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(256))
                // LOAD CSV may not read the server's files (file:///etc/...): actorgraph never
                // imports from files through Cypher, and --write Cypher would otherwise read any
                // file the server can, as FalkorDB's does not.
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("actorgraph-neo4j: stopping");
            try {
                Files.deleteIfExists(envFile);
                dbms.shutdown();
                Files.deleteIfExists(pidFile);
                System.out.println("actorgraph-neo4j: stopped");
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "actorgraph-neo4j-shutdown"));
        try {
            setPassword(dbms, password);
            int boltPort = boltPort(dbms);
            waitForPort(boltPort);
            String uri = "bolt://127.0.0.1:" + boltPort;
            writeAtomically(envFile, "NEO4J_URI=" + uri + "\nNEO4J_USER=" + USER
                    + "\nNEO4J_PASSWORD=" + password + "\n");
            System.out.printf(
                    "actorgraph-neo4j: Neo4j %s ready at %s in %.1f s (data %s)%n",
                    neo4jVersion(), uri, (System.nanoTime() - started) / 1e9, dir);
        } catch (Exception e) {
            // Neo4j's own threads would keep the JVM alive: exit, which runs the shutdown hook.
            System.err.println("actorgraph-neo4j: start failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }
        stopped.await();
    }

    /**
     * Give the {@code neo4j} user the generated password. Embedded transactions run without
     * authentication, so the system database takes it directly; the first start replaces
     * Neo4j's default neo4j/neo4j, later starts find it already set (the file is the truth).
     */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        } catch (QueryExecutionException e) {
            if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }

    /** The port the Bolt connector listens on (the one the OS picked when asked for port 0). */
    private static int boltPort(DatabaseManagementService dbms) {
        GraphDatabaseAPI db = (GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        return db.getDependencyResolver()
                .resolveDependency(ConnectorPortRegister.class)
                .getLocalAddress(ConnectorType.BOLT)
                .getPort();
    }

    /** The password in {@code file}, generated (24 random bytes, URL-safe) on first use. */
    private static String password(Path file) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        }
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        writeAtomically(file, password + "\n");
        return password;
    }

    /** Write {@code text} to a temporary file (owner read/write only), then rename it into place. */
    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Return once something accepts connections on 127.0.0.1:{@code port} (30 s at most). */
    private static void waitForPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Bolt does not answer on port " + port, e);
                }
                Thread.sleep(100);
            }
        }
    }

    private static String neo4jVersion() {
        Package p = DatabaseManagementService.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "5.26" : v;
    }
}
