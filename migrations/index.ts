import { InitialSchema1763769600000 } from './1763769600000-initial-schema.js';
import { SecondFactors1763856000000 } from './1763856000000-second-factors.js';
import { Roles1763942400000 } from './1763942400000-roles.js';
import { Administration1764028800000 } from './1764028800000-administration.js';
import { AccountLinks1764115200000 } from './1764115200000-account-links.js';
import { SelfRegistration1764205200000 } from './1764205200000-self-registration.js';
import { TokenDigests1765065600000 } from './1765065600000-token-digests.js';
import { Consents1765152000000 } from './1765152000000-consents.js';
import { Federation1765238400000 } from './1765238400000-federation.js';
import { OneTimeCodes1765324800000 } from './1765324800000-one-time-codes.js';
import { ProfileClaims1765497600000 } from './1765497600000-profile-claims.js';
import { DefaultSecondFactor1765584000000 } from './1765584000000-default-second-factor.js';
import { Permissions1765670400000 } from './1765670400000-permissions.js';
import { CustomAttributes1765756800000 } from './1765756800000-custom-attributes.js';
import { ChangeNotifications1765843200000 } from './1765843200000-change-notifications.js';
import { ConnectionNotifications1765929600000 } from './1765929600000-connection-notifications.js';

/** Every migration, oldest first. Listed explicitly: ESM builds cannot rely on TypeORM's glob loading. */
export const allMigrations = [
  InitialSchema1763769600000,
  SecondFactors1763856000000,
  Roles1763942400000,
  Administration1764028800000,
  AccountLinks1764115200000,
  SelfRegistration1764205200000,
  TokenDigests1765065600000,
  Consents1765152000000,
  Federation1765238400000,
  OneTimeCodes1765324800000,
  ProfileClaims1765497600000,
  DefaultSecondFactor1765584000000,
  Permissions1765670400000,
  CustomAttributes1765756800000,
  ChangeNotifications1765843200000,
  ConnectionNotifications1765929600000,
];
