// Pseudonyms live with the rest of the privacy rules.
export { buyerPseudonym } from '../privacy/pseudonyms.js';
