// AWS principals for the alert forwarders that run in other clouds (functions/azure,
// functions/gcp). Each may only put messages on the incidents queue (normalized incidents) and
// the rejected queue (raw payloads it could not parse): nothing else in the account.
//
// Two ways to get credentials, per cloud:
// - an IAM user: CDK creates the user and its policy but never an access key, so no secret ever
//   sits in the template or the CloudFormation console; the operator creates the key and stores
//   it in Key Vault / Secret Manager (see infra/README.md);
// - web identity (no long-lived key): a role the forwarder assumes with an ID token from its own
//   cloud. GCP tokens come from Google's built-in `accounts.google.com` provider; Azure tokens
//   come from the Entra tenant's issuer `https://sts.windows.net/<tenant>/`, registered as an
//   IAM OIDC provider.
import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AzureFederationProps {
  /** Entra tenant id (a GUID); the token issuer is `https://sts.windows.net/<tenantId>/`. */
  readonly tenantId: string;
  /** Object (principal) id of the function app's managed identity: the token's `sub`. */
  readonly principalObjectId: string;
  /**
   * The audience the managed identity requests its token for (the application ID URI or client
   * id of an Entra app registration, for example `api://tocsin-forwarder`): the token's `aud`.
   */
  readonly audience: string;
  /**
   * An IAM OIDC provider for this tenant that already exists in the account (one per issuer
   * URL per account).
   * @default a provider is created
   */
  readonly existingProviderArn?: string;
}

export interface GcpFederationProps {
  /**
   * The service account's unique id (the 21-digit number, not its e-mail): Google ID tokens
   * carry it as `sub` and, as authorized party, as what IAM calls `accounts.google.com:aud`.
   */
  readonly serviceAccountUniqueId: string;
  /**
   * The audience the function requests its ID token for (IAM's `accounts.google.com:oaud`).
   * @default not checked
   */
  readonly audience?: string;
}

export interface ForwarderPrincipalProps {
  /**
   * Create an IAM user for this forwarder (the operator creates its access key).
   * @default false
   */
  readonly iamUser?: boolean;
}

export interface AzureForwarderProps extends ForwarderPrincipalProps {
  /** Let the function app's managed identity assume a role with its Entra token. */
  readonly federation?: AzureFederationProps;
}

export interface GcpForwarderProps extends ForwarderPrincipalProps {
  /** Let the function's service account assume a role with its Google ID token. */
  readonly federation?: GcpFederationProps;
}

export interface ForwardersProps {
  readonly azure?: AzureForwarderProps;
  readonly gcp?: GcpForwarderProps;
}

export interface ForwarderAccessProps extends ForwardersProps {
  readonly incidentsQueue: sqs.IQueue;
  readonly rejectedQueue: sqs.IQueue;
}

export interface ForwarderPrincipals {
  readonly user?: iam.User;
  readonly role?: iam.Role;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GOOGLE_UNIQUE_ID = /^\d{10,30}$/;

function requireFormat(value: string, pattern: RegExp, what: string): void {
  // Tokens (values known only at deploy time) cannot be checked here.
  if (!Token.isUnresolved(value) && !pattern.test(value)) {
    throw new Error(`${what} "${value}" is not in the expected format ${pattern.source}`);
  }
}

export class ForwarderAccess extends Construct {
  readonly azure: ForwarderPrincipals;
  readonly gcp: ForwarderPrincipals;
  private readonly sendStatement: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: ForwarderAccessProps) {
    super(scope, id);
    // The queues use SQS-managed encryption, so senders need no KMS permission.
    this.sendStatement = new iam.PolicyStatement({
      sid: 'SendToTocsinQueues',
      actions: ['sqs:SendMessage'],
      resources: [props.incidentsQueue.queueArn, props.rejectedQueue.queueArn],
    });
    this.azure = this.azurePrincipals(props.azure);
    this.gcp = this.gcpPrincipals(props.gcp);
  }

  private userFor(cloud: string, wanted: boolean | undefined): iam.User | undefined {
    if (wanted !== true) return undefined;
    const user = new iam.User(this, `${cloud}ForwarderUser`);
    user.addToPrincipalPolicy(this.sendStatement);
    return user;
  }

  private roleFor(cloud: string, principal: iam.IPrincipal): iam.Role {
    const role = new iam.Role(this, `${cloud}ForwarderRole`, {
      assumedBy: principal,
      description: `Tocsin ${cloud} forwarder: send incidents and rejected payloads to the pipeline queues`,
    });
    role.addToPrincipalPolicy(this.sendStatement);
    return role;
  }

  private azurePrincipals(props: AzureForwarderProps | undefined): ForwarderPrincipals {
    const user = this.userFor('Azure', props?.iamUser);
    const federation = props?.federation;
    if (!federation) return { user };
    requireFormat(federation.tenantId, GUID, 'Azure tenant id');
    requireFormat(federation.principalObjectId, GUID, 'Azure managed identity object id');
    const issuer = `sts.windows.net/${federation.tenantId}/`;
    const providerArn =
      federation.existingProviderArn ??
      new iam.OidcProviderNative(this, 'AzureTenantProvider', {
        url: `https://${issuer}`,
        clientIds: [federation.audience],
      }).oidcProviderArn;
    const principal = new iam.WebIdentityPrincipal(providerArn, {
      StringEquals: {
        [`${issuer}:aud`]: federation.audience,
        [`${issuer}:sub`]: federation.principalObjectId,
      },
    });
    return { user, role: this.roleFor('Azure', principal) };
  }

  private gcpPrincipals(props: GcpForwarderProps | undefined): ForwarderPrincipals {
    const user = this.userFor('Gcp', props?.iamUser);
    const federation = props?.federation;
    if (!federation) return { user };
    requireFormat(federation.serviceAccountUniqueId, GOOGLE_UNIQUE_ID, 'GCP service account unique id');
    const conditions: Record<string, string> = {
      'accounts.google.com:aud': federation.serviceAccountUniqueId,
      'accounts.google.com:sub': federation.serviceAccountUniqueId,
    };
    if (federation.audience !== undefined) conditions['accounts.google.com:oaud'] = federation.audience;
    const principal = new iam.WebIdentityPrincipal('accounts.google.com', { StringEquals: conditions });
    return { user, role: this.roleFor('Gcp', principal) };
  }
}
