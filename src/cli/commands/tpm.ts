import type { Command } from '../command.js';
import { tpmConfigFromEnv, tpmStatus, type TpmStatus } from '../../tpm/index.js';

export const status: Command = {
  name: 'tpm status',
  usage: 'tpm status [--json]',
  summary:
    'Shows which TPM SEALED_TPM selects (auto, off, device:PATH, swtpm:HOST:PORT), its manufacturer, firmware and PCR banks, takes a test quote and checks it, and lists what a quote in a seal covers. An explicitly configured TPM that cannot be used exits 3.',
  options: {},
  async run(ctx) {
    const s = await tpmStatus(tpmConfigFromEnv(ctx.env));
    ctx.out.result({ tpm: s }, () => render(s));
  },
};

function render(s: TpmStatus): string {
  if (!s.available) return [`tpm:       none (SEALED_TPM=${s.setting})`, `           ${s.reason ?? ''}`].join('\n');
  const lines = [
    `tpm:       ${s.transport} (SEALED_TPM=${s.setting})`,
    `maker:     ${s.manufacturer}${s.vendor ? ` (${s.vendor})` : ''}`,
    `firmware:  ${s.firmware_version}`,
    `banks:     ${s.pcr_banks.map((b) => `${b.bank} [${compact(b.pcrs)}]`).join(', ')}`,
    `key:       ${s.attestation_key}`,
    `ek:        ${s.endorsement_key ? `${s.endorsement_key.type} at ${s.endorsement_key.handle}${s.endorsement_key.certificate ? ', with certificate' : ', no certificate'}` : 'not provisioned at the TCG handles'}`,
    `quote:     ok (${s.quote?.milliseconds} ms, checked)`,
    'a quote in a seal covers:',
    ...s.covers.map((c) => `  - ${c}`),
    'PCRs quoted (sha256 bank):',
    ...(s.quote?.pcrs ?? []).map((p) => `  ${String(p.index).padStart(2)}  ${p.meaning}`),
  ];
  return lines.join('\n');
}

/** [0,1,2,3,5] -> "0-3,5" */
function compact(pcrs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < pcrs.length; ) {
    let j = i;
    while (j + 1 < pcrs.length && pcrs[j + 1] === pcrs[j]! + 1) j++;
    out.push(i === j ? `${pcrs[i]}` : `${pcrs[i]}-${pcrs[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
