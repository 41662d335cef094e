// Opt-in for browsers, bundlers and workerd, where tls.rootCertificates
// cannot read pkg/root-certificates.json on first access: importing this
// module (statically, or `await import()` before the first read) hands the
// generated list over. It weighs ~110 KB gzip, so it is not in the entries.
import list from '../pkg/root-certificates.js';
import { provideRootCertificates } from './root-certificates.js';

provideRootCertificates(list);

export default list;
