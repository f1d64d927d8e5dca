/** States returned by the Server Functions in actions.ts to their forms. */

export interface FormError {
  code: string;
  message: string;
  correlationId?: string;
}

export interface LoginState {
  error?: FormError;
  email?: string;
}

export interface OrderState {
  error?: FormError;
  order?: { id: string; status: 'accepted' | 'rejected'; leaseId: string; leaseState: string };
}
